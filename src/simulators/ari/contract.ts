/**
 * The simulator's own reading of the Asterisk REST Interface (ARI) contract: the Channel object
 * as `POST /ari/channels` and `GET /ari/channels/{id}` return it and as events carry it, and the
 * reasons `DELETE /ari/channels/{id}` accepts. Written from Asterisk's ARI reference, not from our
 * client: test/unit/contracts/ari.test.ts holds both to the same documented examples
 * (test/fixtures/contracts/ari/), so neither side's misreading passes unnoticed.
 */

/** Asterisk's channel states (`ast_state2str`). */
export type ChannelState = 'Down' | 'Rsrvd' | 'OffHook' | 'Dialing' | 'Ring' | 'Ringing' | 'Up' | 'Busy' | 'Dialing Offhook' | 'Pre-ring' | 'Unknown';

export interface CallerId {
  name: string;
  number: string;
}

/** Where the channel is in the dialplan (context, extension, priority, and the application running there). */
export interface DialplanCep {
  context: string;
  exten: string;
  priority: number;
  app_name?: string;
  app_data?: string;
}

export interface Channel {
  id: string;
  name: string;
  state: ChannelState;
  caller: CallerId;
  connected: CallerId;
  accountcode: string;
  dialplan: DialplanCep;
  /** `2026-03-05T10:11:12.345-0300`: milliseconds, an offset without a colon. */
  creationtime: string;
  language: string;
  channelvars?: Record<string, string>;
}

/** `DELETE /ari/channels/{channelId}?reason=` values, each mapped to a Q.850 cause (./causes.ts). */
export const HANGUP_REASONS = [
  'normal',
  'busy',
  'congestion',
  'no_answer',
  'timeout',
  'rejected',
  'unallocated',
  'normal_unspecified',
  'number_incomplete',
  'codec_mismatch',
  'interworking',
  'failure',
  'answered_elsewhere',
] as const;
export type HangupReason = (typeof HANGUP_REASONS)[number];

/**
 * The answering-machine dialplan the README asks operators to install, as the simulator plays it:
 * `Stasis(${OMNI_APP},amd-done)` brings the channel back to the app named by that channel variable.
 */
export const DIALPLAN_APP_VARIABLE = 'OMNI_APP';
export const DIALPLAN_AMD_DONE_ARG = 'amd-done';
