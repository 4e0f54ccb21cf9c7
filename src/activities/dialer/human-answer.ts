import { AMD_DONE_ARG, AMD_START_ARG, AMD_STATUS_VARIABLE, amdStage, type AriClient, type Channel } from '../../integrations/ari';
import type { AriEventStream } from '../../integrations/ari/events';

/**
 * When an answered call of the lane is a person, for what answered calls do (an IVR flow,
 * connecting an agent): right at StasisStart, or back from answering-machine detection with an
 * AMDSTATUS other than MACHINE (machines are hung up by the detector).
 */
export function onHumanAnswer(
  client: Pick<AriClient, 'getVariable'>,
  events: Pick<AriEventStream, 'on'>,
  handle: (key: string) => void,
  track: (work: Promise<unknown>) => void,
): () => void {
  return events.on('StasisStart', (e) => {
    const key = e.channel.id;
    const arg = e.args?.[0];
    if (arg === AMD_START_ARG) return;
    if (arg !== AMD_DONE_ARG) return handle(key);
    track(
      client.getVariable(key, AMD_STATUS_VARIABLE).then((status) => {
        if (status && status !== 'MACHINE') handle(key);
      }),
    );
  });
}

/** Answered and in Stasis, past AMD() when the strategy has it, and not a machine. */
export async function readyForAnswer(client: Pick<AriClient, 'getVariable'>, channel: Channel, amd: boolean): Promise<boolean> {
  if (channel.state !== 'Up' || channel.dialplan.app_name !== 'Stasis') return false;
  if (!amd) return true;
  if (amdStage(channel) !== 'decided') return false;
  const status = await client.getVariable(channel.id, AMD_STATUS_VARIABLE);
  return status !== undefined && status !== 'MACHINE';
}

/**
 * A dead lane's call still up: polls until it is answered by a person (true) or gone or left our
 * application without being one (false).
 */
export async function untilHumanAnswer(client: Pick<AriClient, 'getVariable' | 'getChannel'>, key: string, amd: boolean, pollMs: number): Promise<boolean> {
  for (;;) {
    const channel = await client.getChannel(key).catch(() => null);
    if (channel === undefined) return false;
    if (channel && (await readyForAnswer(client, channel, amd))) return true;
    if (channel && channel.state === 'Up' && !amd && channel.dialplan.app_name !== 'Stasis') return false;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
