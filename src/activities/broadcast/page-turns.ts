/**
 * Pages of one send running in this worker take the pace's slots in page order: the first page
 * with messages left to dispatch takes them, the next ones wait ready (rows loaded, opt-outs
 * checked). Shared evenly, the pages would finish together and the send would stall while the
 * next ones start; in order, one page drains while the next is already waiting for its turn.
 * (Workers in other processes still share the pace through the PostgreSQL windows.)
 */
export function createPageTurns() {
  /** Per send: the pages with messages waiting for slots, by first seq, and how to wake each. */
  const bySend = new Map<string, Map<number, () => void>>();
  return {
    /** The page (by its first seq) has messages to dispatch, or no longer has; `wake` is rung when its turn may have come. */
    set(sendId: string, fromSeq: number, waiting: boolean, wake: () => void): void {
      let pages = bySend.get(sendId);
      if (waiting === (pages?.has(fromSeq) ?? false)) return;
      if (waiting) {
        if (!pages) bySend.set(sendId, (pages = new Map()));
        pages.set(fromSeq, wake);
        return;
      }
      pages!.delete(fromSeq);
      if (pages!.size === 0) bySend.delete(sendId);
      for (const other of pages!.values()) other();
    },
    /** True when no earlier page of the send has messages waiting. */
    isTurn(sendId: string, fromSeq: number): boolean {
      const pages = bySend.get(sendId);
      if (!pages) return true;
      for (const other of pages.keys()) if (other < fromSeq) return false;
      return true;
    },
  };
}
