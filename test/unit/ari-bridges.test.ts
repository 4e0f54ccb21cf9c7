import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AriClient } from '../../src/integrations/ari/client';
import type { AriEvent, OtherAriEvent } from '../../src/integrations/ari/types';
import type { AriSimulator } from '../../src/simulators/ari/server';
import { simAuth, type SimulatorAndClient, startSimulatorAndClient } from '../helpers/ari-sim-client';
import { waitFor } from '../helpers/worker-process';

const APP = 'bridges-test';
let sim: AriSimulator;
let client: AriClient;
const seen: Array<AriEvent | OtherAriEvent> = [];

let stack: SimulatorAndClient | undefined;

beforeAll(async () => {
  stack = await startSimulatorAndClient(
    APP,
    {
      seed: 3,
      media: { soundMs: 80 },
      agents: { answerMs: [30, 30], talkMs: [20_000, 20_000], endpoints: { 'agent-short': { answerMs: [10, 10], talkMs: [150, 150] } } },
    },
    (e) => seen.push(e),
  );
  ({ sim, client } = stack);
});
afterAll(() => stack?.stop());

const up = (channelId: string) => waitFor(async () => ((await client.getChannel(channelId))?.state === 'Up' ? true : undefined), `${channelId} up`, 5_000, 5);

async function call(endpoint: string): Promise<string> {
  const channelId = randomUUID();
  expect((await client.originate({ endpoint, callerId: '03034445555', timeoutSec: 30, channelId })).status).toBe('placed');
  await up(channelId);
  return channelId;
}

const raw = (method: string, path: string) => fetch(`${sim.url}${path}`, { method, headers: simAuth });

describe('ARI simulator: bridges', () => {
  it('creates a mixing bridge under our id, idempotently, and joins a customer to an agent', async () => {
    const customer = await call('PJSIP/5511987654321@trunk');
    const agent = await call('PJSIP/agent-1001');
    const id = `b-${randomUUID()}`;
    const bridge = await client.createBridge(id, { name: 'call' });
    expect(bridge).toMatchObject({ id, bridge_type: 'mixing', bridge_class: 'stasis', channels: [] });
    expect((await client.createBridge(id)).id).toBe(id);
    expect((await raw('POST', `/ari/bridges?bridgeId=${id}`)).status).toBe(409);
    expect(await client.addToBridge(id, [customer, agent])).toBe('added');
    expect(await client.addToBridge(id, [customer])).toBe('added');
    expect((await client.getBridge(id))?.channels.sort()).toEqual([customer, agent].sort());
    await waitFor(
      async () => seen.filter((e) => e.type === 'ChannelEnteredBridge' && (e as { bridge: { id: string } }).bridge.id === id).length === 2 || undefined,
      'entered',
      2_000,
      5,
    );

    const record = sim.bridges().find((b) => b.id === id)!;
    expect(record.members.map((m) => m.channelId)).toEqual([customer, agent]);
    expect(record.members.every((m) => m.leftAt === null)).toBe(true);

    expect(await client.removeFromBridge(id, [agent])).toBe('removed');
    expect(await client.removeFromBridge(id, [agent])).toBe('not_in_bridge');
    expect(await client.destroyBridge(id)).toBe(true);
    expect(await client.destroyBridge(id)).toBe(false);
    expect(await client.getBridge(id)).toBeUndefined();
    // Destroying a bridge lets its channels go: it does not hang them up.
    expect((await client.getChannel(customer))?.state).toBe('Up');
    await waitFor(
      async () => seen.some((e) => e.type === 'BridgeDestroyed' && (e as { bridge: { id: string } }).bridge.id === id) || undefined,
      'destroyed',
      2_000,
      5,
    );
    const done = sim.bridges().find((b) => b.id === id)!;
    expect(done.destroyedAt).not.toBeNull();
    expect(done.members.every((m) => m.leftAt !== null)).toBe(true);
    await client.hangup(customer);
    await client.hangup(agent);
  });

  it('answers the errors Asterisk documents for addChannel and removeChannel', async () => {
    const customer = await call('PJSIP/5511987654322@trunk');
    const first = `b-${randomUUID()}`;
    const second = `b-${randomUUID()}`;
    await client.createBridge(first);
    await client.createBridge(second);
    expect(await client.addToBridge(`nope-${randomUUID()}`, [customer])).toBe('bridge_gone');
    expect(await client.addToBridge(first, [`gone-${randomUUID()}`])).toBe('channel_gone');
    expect(await client.addToBridge(first, [customer])).toBe('added');
    // Never one customer in two bridges.
    expect(await client.addToBridge(second, [customer])).toBe('in_other_bridge');
    expect((await raw('POST', `/ari/bridges/${first}/addChannel`)).status).toBe(400);
    expect((await raw('POST', '/ari/bridges?type=mixing,holding')).status).toBe(400);
    // A channel that left Stasis for the dialplan cannot be bridged.
    const away = await call('PJSIP/5511987654323@trunk');
    expect(await client.continueInDialplan(away, { context: 'elsewhere' })).toBe(true);
    expect(await client.addToBridge(second, [away])).toBe('not_in_stasis');
    expect(await client.removeFromBridge(second, [customer])).toBe('not_in_bridge');
    await Promise.all([client.hangup(customer), client.hangup(away), client.destroyBridge(first), client.destroyBridge(second)]);
  });

  it('a channel that hangs up leaves its bridge first; agents answer and hang up on their own times', async () => {
    const customer = await call('PJSIP/5511987654324@trunk');
    const agent = randomUUID();
    const placedAt = Date.now();
    await client.originate({ endpoint: 'PJSIP/agent-short', callerId: '', timeoutSec: 30, channelId: agent, appArgs: 'agent' });
    await up(agent);
    const id = `b-${randomUUID()}`;
    await client.createBridge(id);
    expect(await client.addToBridge(id, [customer, agent])).toBe('added');
    await waitFor(async () => ((await client.getChannel(agent)) ? undefined : true), 'agent hung up', 3_000, 5);
    expect(Date.now() - placedAt).toBeGreaterThanOrEqual(150);
    const left = seen.findIndex((e) => e.type === 'ChannelLeftBridge' && (e as { channel: { id: string } }).channel.id === agent);
    const destroyed = seen.findIndex((e) => e.type === 'ChannelDestroyed' && (e as { channel: { id: string } }).channel.id === agent);
    expect(left).toBeGreaterThanOrEqual(0);
    expect(left).toBeLessThan(destroyed);
    expect((await client.getBridge(id))?.channels).toEqual([customer]);
    const res = await fetch(`${sim.url}/_sim/bridges`, { headers: simAuth });
    const listed = ((await res.json()) as Array<{ id: string; members: Array<{ channelId: string; leftAt: string | null }> }>).find((b) => b.id === id)!;
    expect(listed.members.find((m) => m.channelId === agent)?.leftAt).not.toBeNull();
    await Promise.all([client.hangup(customer), client.destroyBridge(id)]);
  });

  it('plays the abandon message with its duration and PlaybackFinished', async () => {
    const customer = await call('PJSIP/5511987654325@trunk');
    const started = Date.now();
    const played = await client.play(customer, `${customer}-abandon`, ['sound:omni/sem-agentes']);
    expect(played.status).toBe('playing');
    await waitFor(
      async () => seen.some((e) => e.type === 'PlaybackFinished' && (e as { playback: { id: string } }).playback.id === `${customer}-abandon`) || undefined,
      'finished',
      2_000,
      5,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    expect(sim.playbacks(customer)[0]).toMatchObject({ media: ['sound:omni/sem-agentes'], durationMs: 80, stopped: false });
    await client.hangup(customer);
  });
});
