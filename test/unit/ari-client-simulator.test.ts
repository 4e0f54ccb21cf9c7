import { randomUUID } from 'node:crypto';
import { fetch } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { AnsweringMachineDetector, amdStage, type AmdStage } from '../../src/integrations/ari/amd';
import { CallTracker } from '../../src/integrations/ari/call-tracker';
import { createAriClient, type AriClient, type OriginateRequest } from '../../src/integrations/ari/client';
import { AriError } from '../../src/integrations/ari/errors';
import type { AriEvent, HangupReason, OtherAriEvent } from '../../src/integrations/ari/types';
import type { SimConfigPatch } from '../../src/simulators/ari/config';
import { startAriSimulator, type AriSimulator } from '../../src/simulators/ari/server';
import { waitFor } from '../helpers/worker-process';

const APP = 'dialer-test';
const ASTERISK_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$/;

/** The last four digits of the number pick the outcome, so each test knows what it dials. */
const baseConfig: SimConfigPatch = {
  seed: 42,
  ringMs: [5, 10],
  talkMs: [40, 40],
  rules: [
    { match: '0016$', mix: [{ outcome: 'answered', weight: 1 }] },
    { match: '0017$', mix: [{ outcome: 'busy', weight: 1 }] },
    { match: '0019$', mix: [{ outcome: 'no_answer', weight: 1 }] },
    { match: '0021$', mix: [{ outcome: 'rejected', weight: 1 }] },
    { match: '0001$', mix: [{ outcome: 'invalid_number', weight: 1 }] },
    { match: '0034$', mix: [{ outcome: 'network_failure', weight: 1 }] },
    { match: '0038$', mix: [{ cause: 38, weight: 1 }] },
  ],
};

let sim: AriSimulator;
let client: AriClient;
let tracker: CallTracker;
const seen = new Map<string, Array<AriEvent | OtherAriEvent>>();

function clientFor(app = APP, password = 'omni'): AriClient {
  return createAriClient({
    baseUrl: sim.url,
    username: 'omni',
    password,
    app,
    requestTimeoutMs: 2_000,
    reconnect: { minDelayMs: 10, maxDelayMs: 50 },
  });
}

/** Places a call the way the dialer does: track first, then originate, then mark it placed. */
async function dial(lastDigits: string, request: Partial<OriginateRequest> = {}) {
  const channelId = request.channelId ?? randomUUID();
  const report = tracker.track(channelId);
  const result = await client.originate({
    endpoint: `PJSIP/5511987650${lastDigits}@trunk`,
    callerId: '"Omni" <03034445555>',
    timeoutSec: 30,
    channelId,
    ...request,
  });
  tracker.placed(channelId);
  return { channelId, result, report };
}

const typesOf = (channelId: string) => (seen.get(channelId) ?? []).map((e) => e.type);

function raw(path: string, init: { method?: string; body?: string; auth?: string } = {}) {
  return fetch(sim.url + path, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Basic ${Buffer.from(init.auth ?? 'omni:omni').toString('base64')}`,
      ...(init.body ? { 'content-type': 'application/json' } : {}),
    },
    body: init.body,
  });
}

beforeAll(async () => {
  sim = await startAriSimulator({ config: baseConfig });
  client = clientFor();
  client.events().on('event', (event) => {
    const id = (event as { channel?: { id?: string } }).channel?.id;
    if (id) seen.set(id, [...(seen.get(id) ?? []), event]);
  });
  await client.events().ready();
});

afterAll(async () => {
  await client?.close();
  await sim?.stop();
});

beforeEach(async () => {
  sim.reset();
  sim.configure(baseConfig);
  await client.events().ready();
  tracker = new CallTracker(client.events(), { getChannel: (id) => client.getChannel(id) });
});

afterEach(() => tracker.close());

describe('originate and the event sequence of each outcome', () => {
  it('an answered call rings, goes Up, enters Stasis, talks, hangs up with cause 16', async () => {
    const { channelId, result, report } = await dial('0016', { variables: { CAMPAIGN: '7' }, appArgs: 'campaign-7' });

    expect(result.status).toBe('placed');
    if (result.status !== 'placed') return;
    expect(result.channel).toMatchObject({
      id: channelId,
      name: expect.stringMatching(/^PJSIP\/trunk-[0-9a-f]{8}$/),
      state: 'Down',
      caller: { name: 'Omni', number: '03034445555' },
      connected: { number: '55119876500016' },
      accountcode: '',
      dialplan: { context: expect.any(String), exten: expect.any(String), priority: expect.any(Number) },
      creationtime: expect.stringMatching(ASTERISK_TIME),
      language: 'en',
      channelvars: { CAMPAIGN: '7' },
    });

    const done = await report;
    expect(done).toMatchObject({ channelId, outcome: 'answered', cause: 16, causeTxt: 'Normal Clearing', reachedUp: true, lost: false });
    expect(done.answeredAt).toBeInstanceOf(Date);
    expect(done.talkMs).toBeGreaterThanOrEqual(30);
    expect(done.endedAt.getTime()).toBeGreaterThanOrEqual(done.answeredAt!.getTime());

    const events = seen.get(channelId)!;
    expect(events.map((e) => e.type)).toEqual([
      'ChannelStateChange',
      'ChannelStateChange',
      'StasisStart',
      'ChannelHangupRequest',
      'StasisEnd',
      'ChannelDestroyed',
    ]);
    expect(events.map((e) => (e as AriEvent & { channel: { state: string } }).channel.state).slice(0, 2)).toEqual(['Ringing', 'Up']);
    expect(events[2]).toMatchObject({ args: ['campaign-7'] });
    for (const event of events) {
      expect(event.application).toBe(APP);
      expect(event.timestamp).toMatch(ASTERISK_TIME);
    }
  });

  it.each([
    ['0017', 'busy', 17],
    ['0019', 'no_answer', 19],
    ['0021', 'rejected', 21],
    ['0001', 'invalid_number', 1],
    ['0034', 'network_failure', 34],
    ['0038', 'network_failure', 38],
  ] as const)('number …%s rings and is destroyed as %s (cause %i), never entering Stasis', async (digits, outcome, cause) => {
    const { channelId, report } = await dial(digits);
    const done = await report;
    expect(done).toMatchObject({ outcome, cause, reachedUp: false, talkMs: 0, answeredAt: undefined, lost: false });
    expect(done.causeTxt).not.toBe('');
    expect(typesOf(channelId)).toEqual(['ChannelStateChange', 'ChannelDestroyed']);
  });

  it('a ring longer than the originate timeout ends with cause 19 → no_answer', async () => {
    sim.configure({ ringMs: [5_000, 5_000] });
    const { channelId, report } = await dial('0016', { timeoutSec: 1 });
    const done = await report;
    expect(done).toMatchObject({ outcome: 'no_answer', cause: 19, reachedUp: false });
    expect(done.ringMs).toBeGreaterThanOrEqual(900);
    expect(done.ringMs).toBeLessThan(4_000);
    expect(typesOf(channelId)).toEqual(['ChannelStateChange', 'ChannelDestroyed']);
  });

  it('the same seed and channel ids replay the same calls', async () => {
    sim.configure({ rules: [], ringMs: [1, 3], talkMs: [1, 3] });
    const play = async () => {
      const reports = await Promise.all(Array.from({ length: 30 }, (_, i) => dial('9999', { channelId: `replay-${i}` }).then((d) => d.report)));
      return reports.map((r) => r.cause);
    };
    const first = await play();
    sim.reset();
    const second = await play();
    expect(second).toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(1);
  });
});

describe('idempotent originate', () => {
  it('a second originate with a live channel id is already_exists, and the simulator accepted one', async () => {
    sim.configure({ ringMs: [60_000, 60_000] });
    const { channelId, result, report } = await dial('0016');
    expect(result.status).toBe('placed');

    const again = await client.originate({ endpoint: 'PJSIP/55119876500016@trunk', callerId: '1', timeoutSec: 30, channelId });
    expect(again).toEqual({ status: 'already_exists' });
    expect(sim.acceptedOriginates(channelId)).toBe(1);
    expect(sim.stats()).toMatchObject({ originatesAccepted: 1, duplicatesRefused: 1, reoriginated: [] });

    await client.hangup(channelId);
    await report;
  });

  it('a 500 after the call was placed is retryable, and the retry finds the call already placed', async () => {
    sim.configure({ ringMs: [60_000, 60_000] });
    sim.setFaults({ originateLostResponseRate: 1 });
    const channelId = randomUUID();
    const report = tracker.track(channelId);
    const request = { endpoint: 'PJSIP/55119876500016@trunk', callerId: '1', timeoutSec: 30, channelId };

    const error = await client.originate(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AriError);
    expect(error).toMatchObject({ status: 500, retryable: true });

    sim.setFaults({ originateLostResponseRate: 0 });
    expect(await client.originate(request)).toEqual({ status: 'already_exists' });
    expect(sim.acceptedOriginates(channelId)).toBe(1);

    tracker.placed(channelId);
    await client.hangup(channelId);
    expect((await report).cause).toBe(16);
  });

  it('an injected 500 before placing is retryable and places nothing', async () => {
    sim.setFaults({ originateErrorRate: 1 });
    const error = await client
      .originate({ endpoint: 'PJSIP/55119876500016@trunk', callerId: '1', timeoutSec: 30, channelId: 'fails' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AriError', status: 500, retryable: true });
    expect(sim.acceptedOriginates('fails')).toBe(0);
    expect(sim.stats()).toMatchObject({ originatesAccepted: 0, originatesFailed: 1, callsActive: 0 });
  });
});

describe('channels: get, list, hang up', () => {
  it('getChannel finds a live call and answers undefined once it is destroyed; hangup is 404-tolerant', async () => {
    sim.configure({ ringMs: [60_000, 60_000] });
    const { channelId, report } = await dial('0016');
    expect(await client.getChannel(channelId)).toMatchObject({ id: channelId });
    expect((await client.listChannels()).map((c) => c.id)).toContain(channelId);

    expect(await client.hangup(channelId)).toBe(true);
    const done = await report;
    expect(done).toMatchObject({ outcome: 'no_answer', cause: 16, reachedUp: false });
    expect(typesOf(channelId)).toEqual(['ChannelStateChange', 'ChannelHangupRequest', 'ChannelDestroyed']);
    expect(seen.get(channelId)![1]).toMatchObject({ cause: 16, soft: true });

    expect(await client.getChannel(channelId)).toBeUndefined();
    expect(await client.hangup(channelId)).toBe(false);
    expect(sim.stats()).toMatchObject({ hangupsRequested: 1, byCause: { '16': 1 }, callsActive: 0 });
  });

  it('hangup reasons set the cause; an unknown reason is a non-retryable 400', async () => {
    sim.configure({ ringMs: [60_000, 60_000] });
    const { channelId, report } = await dial('0016');
    const error = await client.hangup(channelId, 'whatever' as HangupReason).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'AriError', status: 400, retryable: false });

    expect(await client.hangup(channelId, 'busy')).toBe(true);
    expect(await report).toMatchObject({ cause: 17, outcome: 'busy' });
  });

  it('counts concurrency and calls per number', async () => {
    sim.configure({ ringMs: [60_000, 60_000] });
    const calls = await Promise.all([dial('0016'), dial('0016'), dial('0017')]);
    expect(sim.stats()).toMatchObject({
      callsActive: 3,
      maxConcurrent: 3,
      originatesAccepted: 3,
      perNumber: { '55119876500016': 2, '55119876500017': 1 },
    });
    await Promise.all(calls.map((c) => client.hangup(c.channelId)));
    await Promise.all(calls.map((c) => c.report));
    expect(sim.stats()).toMatchObject({ callsActive: 0, maxConcurrent: 3 });
  });
});

describe('authentication', () => {
  it('wrong credentials: REST calls fail with a non-retryable 401 and the WebSocket is refused', async () => {
    const intruder = clientFor(APP, 'wrong');
    try {
      const error = await intruder.getChannel('x').catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'AriError', status: 401, retryable: false });
      const refusal = await intruder.events().waitFor('error');
      expect(refusal.message).toMatch(/401/);
      expect(intruder.events().isConnected).toBe(false);
    } finally {
      await intruder.close();
    }
    expect((await raw('/_sim/stats', { auth: 'omni:nope' })).status).toBe(401);
  });
});

describe('connection faults', () => {
  it('a dropped WebSocket reconnects and emits reconnected; calls in flight still finish normally', async () => {
    sim.configure({ ringMs: [60_000, 60_000] });
    const { channelId, report } = await dial('0016');
    const stream = client.events();
    const disconnected = stream.waitFor('disconnected');
    const reconnected = stream.waitFor('reconnected');
    sim.dropWebSockets();
    await disconnected;
    await reconnected;
    expect(stream.isConnected).toBe(true);

    // The tracker re-checked the call on reconnect: still alive, so still pending.
    expect(tracker.pending).toContain(channelId);
    await client.hangup(channelId);
    expect(await report).toMatchObject({ cause: 16, lost: false });
  });

  it('keeps reconnecting when the simulator drops WebSockets periodically', async () => {
    const stream = client.events();
    sim.setFaults({ dropWebSocketsEveryMs: 50 });
    await stream.waitFor('reconnected');
    await stream.waitFor('reconnected');
    sim.setFaults({ dropWebSocketsEveryMs: 0 });
    await stream.ready();
    expect((await dial('0017')).result.status).toBe('placed');
  });

  it('refused connections are retryable errors; a call that ended meanwhile is reported as lost', async () => {
    sim.configure({ ringMs: [60_000, 60_000] });
    const { report } = await dial('0016', { timeoutSec: 1 });
    await sim.refuseConnections();

    const error = await client.getChannel('anything').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AriError);
    expect(error).toMatchObject({ status: undefined, retryable: true });

    // The call times out inside the simulator while nobody is listening.
    await vi.waitFor(() => expect(sim.stats().callsActive).toBe(0), { timeout: 5_000, interval: 20 });
    const reconnected = client.events().waitFor('reconnected');
    await sim.acceptConnections();
    await reconnected;

    expect(await report).toMatchObject({ lost: true, outcome: 'network_failure', cause: 0, reachedUp: false });
  });

  it('slow answers still complete within the client timeout', async () => {
    sim.setFaults({ responseDelayMs: 100 });
    const started = Date.now();
    expect(await client.getChannel('missing')).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });
});

describe('wire protocol details', () => {
  it("originate without endpoint is 400; with the id in the path, a duplicate is 409 with Asterisk's message", async () => {
    const missing = await raw(`/ari/channels?app=${APP}`, { method: 'POST' });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ message: 'Endpoint must be specified' });

    sim.configure({ ringMs: [60_000, 60_000] });
    const path = `/ari/channels/by-path?endpoint=PJSIP/551100000016@trunk&app=${APP}`;
    const first = await raw(path, { method: 'POST', body: JSON.stringify({ variables: { A: '1' } }) });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ id: 'by-path', state: 'Down', channelvars: { A: '1' } });
    const second = await raw(path, { method: 'POST' });
    expect(second.status).toBe(409);
    expect(await second.json()).toEqual({ message: 'Channel with given unique ID already exists' });
    expect((await raw('/ari/channels/nope')).status).toBe(404);
    expect((await raw('/ari/channels/by-path', { method: 'DELETE' })).status).toBe(204);
  });

  it('the events WebSocket needs an app; a newer connection for the same app replaces the older', async () => {
    const noApp = new WebSocket(`${sim.url.replace('http', 'ws')}/ari/events?api_key=omni:omni`);
    const status = await new Promise<number>((resolve) => noApp.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    noApp.on('error', () => undefined);
    noApp.terminate();
    expect(status).toBe(400);

    const older = clientFor('shared-app');
    const newer = clientFor('shared-app');
    try {
      await older.events().ready();
      const replaced = older.events().waitFor('ApplicationReplaced');
      await newer.events().ready();
      expect((await replaced).application).toBe('shared-app');
    } finally {
      await older.close();
      await newer.close();
    }
  });

  it('when another connection takes the app over, a tracker with rechecks still learns the call ended', async () => {
    sim.configure({ ringMs: [60_000, 60_000] });
    const first = clientFor('taken-over');
    const second = clientFor('taken-over');
    const watcher = new CallTracker(first.events(), { getChannel: (id) => first.getChannel(id), recheckEveryMs: 50 });
    try {
      await first.events().ready();
      const channelId = randomUUID();
      const report = watcher.track(channelId);
      await first.originate({ endpoint: 'PJSIP/551100000016@trunk', callerId: '1', timeoutSec: 30, channelId });
      watcher.placed(channelId);
      const replaced = first.events().waitFor('ApplicationReplaced');
      await second.events().ready();
      await replaced;

      const destroyedElsewhere = second.events().waitFor('ChannelDestroyed', (e) => e.channel.id === channelId);
      await first.hangup(channelId);
      await destroyedElsewhere;
      expect(await report).toMatchObject({ channelId, lost: true, outcome: 'network_failure' });
    } finally {
      watcher.close();
      await first.close();
      await second.close();
    }
  });

  it('the control API reads and changes the configuration, stats and faults', async () => {
    const put = await raw('/_sim/config', {
      method: 'PUT',
      body: JSON.stringify({ rules: [{ match: '^5521', mix: [{ outcome: 'busy', weight: 1 }] }] }),
    });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { rules: unknown[] }).rules).toHaveLength(1);
    const { report } = await dial('0016', { endpoint: 'PJSIP/5521999990000@trunk' });
    expect((await report).outcome).toBe('busy');

    const bad = await raw('/_sim/config', { method: 'PUT', body: JSON.stringify({ ringMs: [10, 1] }) });
    expect(bad.status).toBe(400);
    expect((await raw('/_sim/config', { method: 'PUT', body: JSON.stringify({ rules: [{ match: '(', mix: [] }] }) })).status).toBe(400);

    const stats = (await (await raw('/_sim/stats')).json()) as { originatesAccepted: number; webSocketsConnected: number };
    expect(stats.originatesAccepted).toBe(1);
    expect(stats.webSocketsConnected).toBeGreaterThanOrEqual(1);

    expect((await raw('/_sim/config', { method: 'PUT', body: JSON.stringify({ faults: { originateErrorRate: 1 } }) })).status).toBe(200);
    await expect(dial('0016')).rejects.toMatchObject({ status: 500 });
    expect((await raw('/_sim/reset', { method: 'POST' })).status).toBe(204);
    expect(sim.config().faults.originateErrorRate).toBe(0);
    const { channelId, report: placed } = await dial('0017', { endpoint: 'PJSIP/551100000017@trunk' });
    await placed;
    expect(await (await raw(`/_sim/originates/${channelId}`)).json()).toEqual({ channelId, accepted: 1 });
  });
});

describe('answering-machine detection (AMD() in the dialplan, AMDSTATUS read over ARI)', () => {
  const amdRules: SimConfigPatch = {
    amdMs: [5, 10],
    // Far longer than AMD plus our round trips, even on a loaded machine: with the base 40 ms a
    // call could end before AMDSTATUS was read (no amdStatus, no hangup of ours).
    talkMs: [1_000, 1_000],
    rules: [
      { match: '0007$', mix: [{ outcome: 'answered', weight: 1 }], machineShare: 1 },
      { match: '0008$', mix: [{ outcome: 'answered', weight: 1 }], machineShare: 0 },
      ...baseConfig.rules!,
    ],
  };
  let detector: AnsweringMachineDetector;
  beforeEach(() => {
    sim.configure(amdRules);
    detector = new AnsweringMachineDetector(client.events(), client, tracker, { context: 'omni-amd' });
  });
  afterEach(() => detector.close());

  const stasisArgs = (channelId: string) => (seen.get(channelId) ?? []).filter((e) => e.type === 'StasisStart').map((e) => (e as { args: string[] }).args);

  it('a machine: the answered call goes through AMD, comes back, is hung up and ends as answering_machine', async () => {
    const { channelId, report } = await dial('0007', { detectMachine: true });
    expect(await report).toMatchObject({ outcome: 'answering_machine', amdStatus: 'MACHINE', cause: 16, reachedUp: true });
    expect(stasisArgs(channelId)).toEqual([['amd'], ['amd-done']]);
    expect(typesOf(channelId)).toContain('StasisEnd');
    expect(sim.stats().hangupsRequested).toBe(1);
  });

  it('a human stays on the line and is answered; without detection a machine is just answered', async () => {
    const human = await dial('0008', { detectMachine: true });
    expect(await human.report).toMatchObject({ outcome: 'answered', amdStatus: 'HUMAN' });
    const undetected = await dial('0007');
    expect(await undetected.report).toMatchObject({ outcome: 'answered', amdStatus: undefined });
    expect(stasisArgs(undetected.channelId)).toEqual([[]]);
    expect(sim.stats().hangupsRequested).toBe(0);
  });

  it("takeover: resume() carries a dead process's call through AMD from what polling shows, and hangs up the machine", async () => {
    // Calls talk long enough to be polled at each stage (beforeEach configures the next test afresh).
    sim.configure({ talkMs: [5_000, 5_000] });
    const dead = clientFor('dead-worker');
    try {
      // Originated by a process whose app has no WebSocket: nobody sees its StasisStart(amd).
      const channelId = randomUUID();
      await dead.originate({ endpoint: 'PJSIP/55119876500007@trunk', callerId: '', timeoutSec: 30, channelId, detectMachine: true });
      const stages: Array<AmdStage | undefined> = [];
      const status = await waitFor(
        async () => {
          const channel = await client.getChannel(channelId);
          if (!channel) throw new Error('the call ended before AMD decided');
          if (stages.at(-1) !== amdStage(channel)) stages.push(amdStage(channel));
          return detector.resume(channel);
        },
        'AMDSTATUS',
        10_000,
        5,
      );
      expect(status).toBe('MACHINE');
      // Answered and left in Stasis(amd) (its StasisStart went nowhere): resume sent it to AMD, then
      // read the verdict once back (the short AMD stage itself may fall between two polls).
      expect(stages.filter(Boolean)[0]).toBe('answered');
      expect(stages.at(-1)).toBe('decided');
      expect(await client.getChannel(channelId)).toBeUndefined();
      expect(sim.stats()).toMatchObject({ hangupsRequested: 1, originatesAccepted: 1 });
    } finally {
      await dead.close();
    }
  });

  it('the variable and continue resources answer like Asterisk for bad requests', async () => {
    expect((await raw('/ari/channels/nope/variable')).status).toBe(400);
    expect((await raw('/ari/channels/nope/variable?variable=AMDSTATUS')).status).toBe(404);
    expect((await raw('/ari/channels/nope/continue?context=omni-amd', { method: 'POST' })).status).toBe(404);
    expect(await client.getVariable('nope', 'AMDSTATUS')).toBeUndefined();
    expect(await client.continueInDialplan('nope', { context: 'omni-amd' })).toBe(false);
  });
});
