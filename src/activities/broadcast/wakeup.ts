/**
 * "Wait until any call in flight finishes": a promise the finishing calls resolve. Racing the set
 * of 200 calls instead would attach 200 reactions on every wait, a thousand times a second.
 */
export function createWakeup() {
  let ring!: () => void;
  let next = new Promise<void>((resolve) => (ring = resolve));
  return {
    ring(): void {
      const resolve = ring;
      next = new Promise<void>((r) => (ring = r));
      resolve();
    },
    /** Resolves at the next ring, or after `ms` when given. */
    async wait(ms?: number): Promise<void> {
      if (ms === undefined) return next;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([next, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
