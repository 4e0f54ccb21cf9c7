import { AMD_DONE_ARG, AMD_START_ARG, AMD_STATUS_VARIABLE, DEFAULT_AMD_CONTEXT } from './amd-protocol';
import type { CallTracker } from './call-tracker';
import type { AriClient } from './client';
import type { AriEventStream } from './events';
import type { Channel } from './types';

/**
 * Where a call stands in the AMD flow, read from the channel's dialplan location alone (all a lane
 * taking over a dead worker's call has): `answered` in Stasis with `amd`, not yet sent to AMD();
 * `detecting` in the AMD context; `decided` back in Stasis with `amd-done` (AMDSTATUS is set).
 */
export type AmdStage = 'answered' | 'detecting' | 'decided';

export function amdStage(channel: Channel, context: string = DEFAULT_AMD_CONTEXT): AmdStage | undefined {
  const { app_name, app_data, context: at } = channel.dialplan;
  if (app_name === 'Stasis') {
    const arg = app_data?.split(',')[1];
    if (arg === AMD_START_ARG) return 'answered';
    if (arg === AMD_DONE_ARG) return 'decided';
    return undefined;
  }
  return at === context ? 'detecting' : undefined;
}

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

  /**
   * Takes over the detection of a call another (dead) process originated, given the channel as
   * polled: does the step that process would have done on the StasisStart it will never see.
   * Returns AMDSTATUS once decided (machines are hung up as usual), else undefined: call again
   * on the next poll. A second `continue` or hangup racing a live original is refused harmlessly.
   */
  async resume(channel: Channel): Promise<string | undefined> {
    const stage = amdStage(channel, this.context);
    if (stage === 'answered') await this.detect(channel.id);
    return stage === 'decided' ? this.decided(channel.id) : undefined;
  }

  private get context(): string {
    return this.options.context ?? DEFAULT_AMD_CONTEXT;
  }

  private async detect(channelId: string): Promise<void> {
    await this.client.continueInDialplan(channelId, { context: this.context });
  }

  private async decided(channelId: string): Promise<string | undefined> {
    const status = await this.client.getVariable(channelId, AMD_STATUS_VARIABLE);
    if (!status) return undefined;
    this.tracker.noteAmd(channelId, status);
    if (status === 'MACHINE' && this.options.hangupMachines !== false) await this.client.hangup(channelId, 'normal');
    return status;
  }

  close(): void {
    this.off();
  }
}
