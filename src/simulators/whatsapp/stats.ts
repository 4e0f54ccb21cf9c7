/**
 * What the simulator received, so tests can prove "exactly once": accepted messages per recipient
 * (the `to` digits as sent) and per `biz_opaque_callback_data`, and refusals per error code.
 */
export class SendStats {
  requests = 0;
  accepted = 0;
  lostAnswers = 0;
  inbound = 0;
  readonly refusedByCode = new Map<number, number>();
  readonly acceptedByRecipient = new Map<string, number>();
  readonly acceptedByCallbackData = new Map<string, number>();
  /** Hits per injection, in the order of `config.injections`; reset when injections are set. */
  injectionHits: number[] = [];

  clear(): void {
    this.requests = this.accepted = this.lostAnswers = this.inbound = 0;
    this.refusedByCode.clear();
    this.acceptedByRecipient.clear();
    this.acceptedByCallbackData.clear();
    this.injectionHits = [];
  }

  refused(code: number): void {
    this.refusedByCode.set(code, (this.refusedByCode.get(code) ?? 0) + 1);
  }

  recordAccepted(recipient: string, callbackData: string | undefined): void {
    this.accepted++;
    this.acceptedByRecipient.set(recipient, (this.acceptedByRecipient.get(recipient) ?? 0) + 1);
    if (callbackData !== undefined) {
      this.acceptedByCallbackData.set(callbackData, (this.acceptedByCallbackData.get(callbackData) ?? 0) + 1);
    }
  }

  /** Plain JSON; `detail` adds the per-recipient and per-key maps (large on big runs). */
  snapshot(detail: boolean) {
    const refused = [...this.refusedByCode.values()].reduce((sum, count) => sum + count, 0);
    return {
      requests: this.requests,
      accepted: this.accepted,
      refused,
      refusedByCode: Object.fromEntries(this.refusedByCode),
      lostAnswers: this.lostAnswers,
      inbound: this.inbound,
      injectionHits: [...this.injectionHits],
      uniqueRecipients: this.acceptedByRecipient.size,
      duplicateRecipients: repeated(this.acceptedByRecipient),
      duplicateCallbackData: repeated(this.acceptedByCallbackData),
      ...(detail
        ? {
            acceptedByRecipient: Object.fromEntries(this.acceptedByRecipient),
            acceptedByCallbackData: Object.fromEntries(this.acceptedByCallbackData),
          }
        : {}),
    };
  }
}

function repeated(counts: Map<string, number>): string[] {
  return [...counts].filter(([, count]) => count > 1).map(([key]) => key);
}
