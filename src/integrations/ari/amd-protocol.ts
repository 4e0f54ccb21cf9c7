/**
 * How answering-machine detection runs through Asterisk (AMD is a dialplan application, not an
 * ARI operation). Asterisk needs this context in extensions.conf:
 *
 *   [omni-amd]
 *   exten => s,1,AMD()
 *    same => n,Stasis(${OMNI_APP},amd-done)
 *    same => n,Hangup()
 *
 * 1. Originate with our app and the argument `amd`. The originate subscribes our app to the
 *    channel, and Asterisk counts subscriptions: the one Stasis() adds ends with its StasisEnd,
 *    the originate's stays, so the call's events (a hangup during AMD too) keep reaching us.
 * 2. On StasisStart(amd), continue the answered channel into that context: AMD() listens and sets
 *    AMDSTATUS (MACHINE, HUMAN, NOTSURE, HANGUP) and AMDCAUSE.
 * 3. The dialplan returns it to our app with StasisStart(amd-done); we read AMDSTATUS with
 *    `GET /ari/channels/{id}/variable` and hang up machines.
 */
export const AMD_START_ARG = 'amd';
export const AMD_DONE_ARG = 'amd-done';
/** Channel variable carrying our Stasis app's name, for the dialplan's way back. */
export const AMD_APP_VARIABLE = 'OMNI_APP';
export const AMD_STATUS_VARIABLE = 'AMDSTATUS';
export const DEFAULT_AMD_CONTEXT = 'omni-amd';

export type AmdStatus = 'MACHINE' | 'HUMAN' | 'NOTSURE' | 'HANGUP' | (string & {});
