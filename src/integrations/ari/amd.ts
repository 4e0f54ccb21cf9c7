import { AMD_DONE_ARG, AMD_START_ARG, AMD_STATUS_VARIABLE, DEFAULT_AMD_CONTEXT } from './amd-protocol';
import type { CallTracker } from './call-tracker';
import type { AriClient } from './client';
import type { AriEventStream } from './events';

export interface AnsweringMachineDetectorOptions {
  /** The dialplan context that runs AMD() and returns to Stasis (amd-protocol.ts). */
  context?: string;
  /** Hang up calls answered by a machine at once (the line is free for the next contact). */
  hangupMachines?: boolean;
  onError?: (error: Error) => void;
}

/**
 * Drives answering-machine detection for calls originated with `detectMachine` (amd-protocol.ts):
 * sends each answered call through the AMD context, reads AMDSTATUS when it comes back, tells the
 * tracker, and hangs up machines.
 */
export class AnsweringMachineDetector {
  private readonly off: () => void;

  constructor(
    events: AriEventStream,
    private readonly client: Pick<AriClient, 'continueInDialplan' | 'getVariable' | 'hangup'>,
    private readonly tracker: Pick<CallTracker, 'noteAmd'>,
    private readonly options: AnsweringMachineDetectorOptions = {},
  ) {
    this.off = events.on('StasisStart', (e) => {
      const step = e.args?.[0];
      if (step === AMD_START_ARG) void this.detect(e.channel.id).catch((error: Error) => this.options.onError?.(error));
      else if (step === AMD_DONE_ARG) void this.decided(e.channel.id).catch((error: Error) => this.options.onError?.(error));
    });
  }

  private async detect(channelId: string): Promise<void> {
    await this.client.continueInDialplan(channelId, { context: this.options.context ?? DEFAULT_AMD_CONTEXT });
  }

  private async decided(channelId: string): Promise<void> {
    const status = await this.client.getVariable(channelId, AMD_STATUS_VARIABLE);
    if (!status) return;
    this.tracker.noteAmd(channelId, status);
    if (status === 'MACHINE' && this.options.hangupMachines !== false) await this.client.hangup(channelId, 'normal');
  }

  close(): void {
    this.off();
  }
}
