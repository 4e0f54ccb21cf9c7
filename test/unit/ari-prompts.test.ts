import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AriClient } from '../../src/integrations/ari/client';
import type { AriEvent, OtherAriEvent } from '../../src/integrations/ari/types';
import type { AriSimulator } from '../../src/simulators/ari/server';
import { simAuth, type SimulatorAndClient, startSimulatorAndClient } from '../helpers/ari-sim-client';
import { waitFor } from '../helpers/worker-process';

const APP = 'ivr-prompts';
let sim: AriSimulator;
let client: AriClient;
const seen = new Map<string, Array<AriEvent | OtherAriEvent>>();

let stack: SimulatorAndClient | undefined;

beforeAll(async () => {
  stack = await startSimulatorAndClient(
    APP,
    {
      seed: 11,
      media: { soundMs: 60, digitMs: 10, numberMs: 30, overrides: { 'sound:longo': 1_500 } },
      keyDelayMs: [20, 20],
      interDigitMs: 15,
      keypad: [
        { match: '1$', keys: ['1'], promptMatch: 'opcoes' },
        { match: '9$', keys: ['9'], promptMatch: 'opcoes' },
        { match: '5$', keys: ['5', '2'], promptMatch: 'opcoes' },
        { match: '6$', keys: ['12#'], bargeIn: true },
        { match: '7$', hangupDuringPlayback: 1 },
        // 0: never presses anything (no rule needed, but said here).
        { match: '0$', keys: [] },
      ],
    },
    (e) => {
      const id =
        'channel' in e && e.channel
          ? (e.channel as { id: string }).id
          : 'playback' in e
            ? String((e.playback as { target_uri: string }).target_uri).slice('channel:'.length)
            : '';
      seen.set(id, [...(seen.get(id) ?? []), e]);
    },
  );
  ({ sim, client } = stack);
});
afterAll(() => stack?.stop());

const types = (channelId: string) => (seen.get(channelId) ?? []).map((e) => e.type);
const keysOf = (channelId: string) =>
  (seen.get(channelId) ?? [])
    .filter((e) => e.type === 'ChannelDtmfReceived')
    .map((e) => (e as { digit: string }).digit)
    .join('');

/** Places a call to a number ending in `last` and waits until it is answered and in our app. */
async function answered(last: string): Promise<string> {
  const channelId = randomUUID();
  const result = await client.originate({ endpoint: `PJSIP/551198765432${last}@trunk`, callerId: '03034445555', timeoutSec: 30, channelId });
  expect(result.status).toBe('placed');
  await waitFor(async () => types(channelId).includes('StasisStart') || undefined, 'StasisStart', 5_000, 5);
  return channelId;
}
const finished = (channelId: string, playbackId: string) =>
  waitFor(
    async () =>
      (seen.get(channelId) ?? []).some((e) => e.type === 'PlaybackFinished' && (e as { playback: { id: string } }).playback.id === playbackId) || undefined,
    `PlaybackFinished ${playbackId}`,
    5_000,
    5,
  );

describe('prompts through the client', () => {
  it('plays media in order under our own id: PlaybackStarted, then PlaybackFinished after the media durations', async () => {
    const channelId = await answered('0');
    const started = Date.now();
    const result = await client.play(channelId, `${channelId}-p1`, ['sound:ola', 'number:150', 'digits:12']);
    expect(result).toMatchObject({
      status: 'playing',
      playback: { id: `${channelId}-p1`, media_uri: 'sound:ola', next_media_uri: 'number:150', target_uri: `channel:${channelId}` },
    });
    expect((await client.getPlayback(`${channelId}-p1`))?.id).toBe(`${channelId}-p1`);
    await finished(channelId, `${channelId}-p1`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(60 + 30 + 20 - 5);
    expect(types(channelId).filter((t) => t.startsWith('Playback'))).toEqual(['PlaybackStarted', 'PlaybackFinished']);
    expect(await client.getPlayback(`${channelId}-p1`)).toBeUndefined();
    expect(sim.playbacks(channelId)).toEqual([
      expect.objectContaining({ id: `${channelId}-p1`, media: ['sound:ola', 'number:150', 'digits:12'], durationMs: 110, state: 'done', stopped: false }),
    ]);
    // Nobody on 0 presses anything.
    expect(keysOf(channelId)).toBe('');
  });

  it('a second play with the same id while the first plays is refused (409), so a retried step cannot play twice', async () => {
    const channelId = await answered('0');
    expect((await client.play(channelId, 'same-id', ['sound:longo'])).status).toBe('playing');
    expect(await client.play(channelId, 'same-id', ['sound:longo'])).toMatchObject({ status: 'refused' });
    expect(sim.playbacks(channelId)).toHaveLength(1);
  });

  it('stops a playback: PlaybackFinished follows, a second stop is 404 (false)', async () => {
    const channelId = await answered('0');
    await client.play(channelId, `${channelId}-long`, ['sound:longo']);
    await waitFor(async () => types(channelId).includes('PlaybackStarted') || undefined, 'PlaybackStarted', 5_000, 5);
    expect(await client.stopPlayback(`${channelId}-long`)).toBe(true);
    await finished(channelId, `${channelId}-long`);
    expect(await client.stopPlayback(`${channelId}-long`)).toBe(false);
    expect(sim.playbacks(channelId)[0]).toMatchObject({ stopped: true, state: 'done' });
  });

  it('a play while another plays waits its turn, as in Asterisk (counted, so tests can prove none overlap)', async () => {
    const channelId = await answered('0');
    const before = sim.stats().playbacksQueued;
    await client.play(channelId, `${channelId}-a`, ['sound:x']);
    const second = await client.play(channelId, `${channelId}-b`, ['sound:y']);
    expect(second).toMatchObject({ status: 'playing', playback: { state: 'queued' } });
    await finished(channelId, `${channelId}-b`);
    const [a, b] = sim.playbacks(channelId);
    expect(Date.parse(b?.startedAt as string)).toBeGreaterThanOrEqual(Date.parse(a?.finishedAt as string));
    expect(sim.stats().playbacksQueued).toBe(before + 1);
  });

  it('404 for a channel that is gone, 409 for one that left Stasis, 400 for a malformed media', async () => {
    expect(await client.play('no-such-channel', 'x', ['sound:ola'])).toEqual({ status: 'channel_gone' });
    const channelId = await answered('0');
    expect(await client.continueInDialplan(channelId, { context: 'fila-externa', extension: '500' })).toBe(true);
    expect(await client.play(channelId, 'y', ['sound:ola'])).toMatchObject({ status: 'refused', message: 'Channel not in Stasis application' });
    await expect(client.play(await answered('0'), 'z', ['beep'])).rejects.toMatchObject({ status: 400 });
  });
});

describe('the people on the line (keypad scripts per number)', () => {
  const menu = async (channelId: string, step: number) => {
    await client.play(channelId, `${channelId}-p${step}`, ['sound:opcoes']);
    await finished(channelId, `${channelId}-p${step}`);
  };
  const keysWithin = (channelId: string, n: number) =>
    waitFor(async () => (keysOf(channelId).length >= n ? keysOf(channelId) : undefined), `${n} key(s)`, 5_000, 5);

  it('numbers ending in 1 press 1 and in 9 press 9 after the menu prompt; other prompts get no key', async () => {
    const one = await answered('1');
    const nine = await answered('9');
    await client.play(one, `${one}-p1`, ['sound:saudacao']);
    await finished(one, `${one}-p1`);
    await menu(one, 2);
    await menu(nine, 1);
    expect(await keysWithin(one, 1)).toBe('1');
    expect(await keysWithin(nine, 1)).toBe('9');
    const key = (seen.get(nine) ?? []).find((e) => e.type === 'ChannelDtmfReceived');
    expect(key).toMatchObject({ digit: '9', duration_ms: 120, channel: { id: nine } });
  });

  it('a script answers each prompt with its next entry: first an invalid key, then a good one', async () => {
    const channelId = await answered('5');
    await menu(channelId, 1);
    expect(await keysWithin(channelId, 1)).toBe('5');
    await menu(channelId, 2);
    expect(await keysWithin(channelId, 2)).toBe('52');
  });

  it('barge-in: the keys come while the prompt still plays', async () => {
    const channelId = await answered('6');
    await client.play(channelId, `${channelId}-p1`, ['sound:longo']);
    expect(await keysWithin(channelId, 3)).toBe('12#');
    expect(sim.playbacks(channelId)[0]?.state).toBe('playing');
  });

  it('some hang up halfway through the first prompt: PlaybackFinished, then the channel is destroyed', async () => {
    const channelId = await answered('7');
    await client.play(channelId, `${channelId}-p1`, ['sound:longo']);
    await waitFor(async () => types(channelId).includes('ChannelDestroyed') || undefined, 'ChannelDestroyed', 5_000, 5);
    const order = types(channelId);
    expect(order.indexOf('PlaybackFinished')).toBeLessThan(order.indexOf('StasisEnd'));
    expect(sim.playbacks(channelId)[0]).toMatchObject({ stopped: true });
    expect(await client.play(channelId, `${channelId}-p2`, ['sound:ola'])).toEqual({ status: 'channel_gone' });
  });

  it('/_sim/playbacks shows every playback, by channel if asked', async () => {
    const res = await fetch(`${sim.url}/_sim/playbacks`, { headers: simAuth });
    expect(res.status).toBe(200);
    const all = (await res.json()) as { channelId: string }[];
    expect(all.length).toBe(sim.playbacks().length);
    expect(all.length).toBeGreaterThan(5);
  });
});
