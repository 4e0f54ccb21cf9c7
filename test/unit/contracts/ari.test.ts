import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseAriEvent, parseChannel, parsePlayback } from '../../../src/integrations/ari/parse';
import { startAriSimulator, type AriSimulator } from '../../../src/simulators/ari/server';
import { waitFor } from '../../helpers/worker-process';
import { fixture, missing, undocumented } from './shape';

// Asterisk's ARI as documented (test/fixtures/contracts/ari/), held against our client's parser
// and against our simulator's own output: a misreading on either side fails here.

const channel = fixture('ari/channel.json');
const stasisStart = fixture('ari/stasis-start.json');
const stateChange = fixture('ari/channel-state-change.json');
const destroyed = fixture('ari/channel-destroyed.json');
const playback = fixture('ari/playback.json');
const playbackStarted = fixture('ari/playback-started.json');
const playbackFinished = fixture('ari/playback-finished.json');
const dtmf = fixture('ari/channel-dtmf-received.json');
const PLAYBACK_FIELDS = ['id', 'media_uri', 'target_uri', 'state'];
const PLAYBACK_STATES = ['queued', 'playing', 'continuing', 'paused', 'done', 'failed'];

const CHANNEL_FIELDS = [
  'id',
  'name',
  'state',
  'caller.name',
  'caller.number',
  'connected.number',
  'accountcode',
  'dialplan.context',
  'dialplan.exten',
  'dialplan.priority',
  'creationtime',
  'language',
];
const EVENT_FIELDS = ['type', 'application', 'timestamp', ...CHANNEL_FIELDS.map((f) => `channel.${f}`)];
/** Asterisk's channel states as `ast_state2str` names them. */
const CHANNEL_STATES = ['Down', 'Rsrvd', 'OffHook', 'Dialing', 'Ring', 'Ringing', 'Up', 'Busy', 'Dialing Offhook', 'Pre-ring', 'Unknown'];
const ASTERISK_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$/;

describe('the client reads the documented ARI payloads', () => {
  it('a Channel, keeping its id, state, caller and creation time', () => {
    expect(parseChannel(channel)).toMatchObject({
      id: channel.id,
      state: 'Down',
      caller: channel.caller,
      creationtime: channel.creationtime,
      channelvars: channel.channelvars,
    });
  });

  it('StasisStart with its args, ChannelStateChange, and ChannelDestroyed with its Q.850 cause', () => {
    const start = parseAriEvent(JSON.stringify(stasisStart));
    expect(start).toMatchObject({ known: true, event: { type: 'StasisStart', args: ['amd'], channel: { id: stasisStart.channel.id, state: 'Up' } } });
    expect(parseAriEvent(JSON.stringify(stateChange))).toMatchObject({ known: true, event: { type: 'ChannelStateChange', channel: { state: 'Ringing' } } });
    expect(parseAriEvent(JSON.stringify(destroyed))).toMatchObject({ known: true, event: { type: 'ChannelDestroyed', cause: 17, cause_txt: 'User busy' } });
  });

  it('the fixtures use only documented states and time formats', () => {
    for (const c of [channel, stasisStart.channel, stateChange.channel, destroyed.channel]) {
      expect(CHANNEL_STATES).toContain(c.state);
      expect(c.creationtime).toMatch(ASTERISK_TIME);
    }
  });
});

describe('the simulator answers as documented', () => {
  let sim: AriSimulator;
  let socket: WebSocket;
  const events: Record<string, any>[] = [];
  const auth = { authorization: `Basic ${Buffer.from('omni:omni').toString('base64')}` };

  beforeAll(async () => {
    sim = await startAriSimulator({
      config: {
        seed: 7,
        ringMs: [20, 20],
        talkMs: [30, 30],
        rules: [
          { match: '1$', mix: [{ outcome: 'busy', weight: 1 }] },
          { match: '.', mix: [{ outcome: 'answered', weight: 1 }] },
        ],
      },
    });
    socket = new WebSocket(`${sim.url.replace('http', 'ws')}/ari/events?app=contrato&api_key=omni:omni`);
    socket.on('message', (data) => events.push(JSON.parse(data.toString())));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  });
  afterAll(async () => {
    socket?.close();
    await sim?.stop();
  });

  const originate = async (channelId: string, number: string) => {
    const query = new URLSearchParams({ endpoint: `PJSIP/${number}@operadora`, app: 'contrato', appArgs: 'amd', channelId, callerId: '"Omni" <03033334444>' });
    const res = await fetch(`${sim.url}/ari/channels?${query}`, { method: 'POST', headers: auth });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  };
  const eventsOf = (channelId: string, type: string) => events.filter((e) => e.type === type && e.channel?.id === channelId);

  it('POST /ari/channels answers a Channel with the documented fields, types, state and time format', async () => {
    const answered = await originate('contrato-1', '5511987654325');
    expect(undocumented(answered, channel)).toEqual([]);
    expect(missing(answered, CHANNEL_FIELDS)).toEqual([]);
    expect(CHANNEL_STATES).toContain(answered.state);
    expect(answered.creationtime).toMatch(ASTERISK_TIME);
    expect(answered.caller).toEqual({ name: 'Omni', number: '03033334444' });
  });

  it('an answered call: StasisStart with the originate args, state changes with documented states', async () => {
    await originate('contrato-2', '5511987654326');
    const [start] = await waitFor(
      async () => (eventsOf('contrato-2', 'StasisStart').length ? eventsOf('contrato-2', 'StasisStart') : undefined),
      'StasisStart',
      5_000,
      10,
    );
    expect(undocumented(start, stasisStart)).toEqual([]);
    expect(missing(start, [...EVENT_FIELDS, 'args'])).toEqual([]);
    expect(start.args).toEqual(['amd']);
    expect(start.channel.state).toBe('Up');
    expect(start.timestamp).toMatch(ASTERISK_TIME);
    for (const change of eventsOf('contrato-2', 'ChannelStateChange')) {
      expect(undocumented(change, stateChange)).toEqual([]);
      expect(CHANNEL_STATES).toContain(change.channel.state);
    }
  });

  it('a busy number: ChannelDestroyed with cause 17 and the text Asterisk gives it', async () => {
    await originate('contrato-3', '5511987654321');
    const [gone] = await waitFor(
      async () => (eventsOf('contrato-3', 'ChannelDestroyed').length ? eventsOf('contrato-3', 'ChannelDestroyed') : undefined),
      'ChannelDestroyed',
      5_000,
      10,
    );
    expect(undocumented(gone, destroyed)).toEqual([]);
    expect(missing(gone, [...EVENT_FIELDS, 'cause', 'cause_txt'])).toEqual([]);
    expect(gone).toMatchObject({ cause: destroyed.cause, cause_txt: destroyed.cause_txt });
    // What the simulator sent, the client reads back as the same event.
    expect(parseAriEvent(JSON.stringify(gone))).toMatchObject({ known: true, event: { type: 'ChannelDestroyed', cause: 17 } });
  });
});

describe('prompts and keys: the client reads the documented payloads', () => {
  it('a Playback, PlaybackStarted / PlaybackFinished with it, and ChannelDtmfReceived with its digit', () => {
    expect(parsePlayback(playback)).toMatchObject({ id: playback.id, media_uri: playback.media_uri, state: 'queued', target_uri: playback.target_uri });
    expect(parseAriEvent(JSON.stringify(playbackStarted))).toMatchObject({
      known: true,
      event: { type: 'PlaybackStarted', playback: { id: playback.id, state: 'playing' } },
    });
    expect(parseAriEvent(JSON.stringify(playbackFinished))).toMatchObject({ known: true, event: { type: 'PlaybackFinished', playback: { state: 'done' } } });
    expect(parseAriEvent(JSON.stringify(dtmf))).toMatchObject({
      known: true,
      event: { type: 'ChannelDtmfReceived', digit: '9', duration_ms: 120, channel: { id: dtmf.channel.id } },
    });
    for (const p of [playback, playbackStarted.playback, playbackFinished.playback]) expect(PLAYBACK_STATES).toContain(p.state);
  });
});

describe('prompts and keys: the simulator answers as documented', () => {
  let sim: AriSimulator;
  let socket: WebSocket;
  const events: Record<string, any>[] = [];
  const auth = { authorization: `Basic ${Buffer.from('omni:omni').toString('base64')}` };

  beforeAll(async () => {
    sim = await startAriSimulator({
      config: {
        seed: 7,
        ringMs: [10, 10],
        talkMs: [5_000, 5_000],
        rules: [{ match: '.', mix: [{ outcome: 'answered', weight: 1 }] }],
        media: { soundMs: 40 },
        keyDelayMs: [10, 10],
        keypad: [{ match: '9$', keys: ['9'] }],
      },
    });
    socket = new WebSocket(`${sim.url.replace('http', 'ws')}/ari/events?app=contrato&api_key=omni:omni`);
    socket.on('message', (data) => events.push(JSON.parse(data.toString())));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  });
  afterAll(async () => {
    socket?.close();
    await sim?.stop();
  });

  it('POST …/play/{id} answers a Playback; PlaybackStarted, PlaybackFinished and the key pressed follow, each in the documented shape', async () => {
    const query = new URLSearchParams({ endpoint: 'PJSIP/5511987654329@operadora', app: 'contrato', channelId: 'contrato-p1' });
    expect((await fetch(`${sim.url}/ari/channels?${query}`, { method: 'POST', headers: auth })).status).toBe(200);
    await waitFor(async () => events.find((e) => e.type === 'StasisStart' && e.channel.id === 'contrato-p1'), 'StasisStart', 5_000, 10);
    const res = await fetch(`${sim.url}/ari/channels/contrato-p1/play/contrato-p1-p1?media=sound:opcoes,sound:reais`, { method: 'POST', headers: auth });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(undocumented(body, playback)).toEqual([]);
    expect(missing(body, PLAYBACK_FIELDS)).toEqual([]);
    const key = await waitFor(async () => events.find((e) => e.type === 'ChannelDtmfReceived'), 'ChannelDtmfReceived', 5_000, 10);
    const started = events.find((e) => e.type === 'PlaybackStarted');
    const finished = events.find((e) => e.type === 'PlaybackFinished');
    expect(undocumented(started, playbackStarted)).toEqual([]);
    expect(missing(started, ['type', 'application', 'timestamp', ...PLAYBACK_FIELDS.map((f) => `playback.${f}`)])).toEqual([]);
    expect(undocumented(finished, playbackFinished)).toEqual([]);
    expect(finished?.playback).toMatchObject({ id: 'contrato-p1-p1', state: 'done' });
    expect(undocumented(key, dtmf)).toEqual([]);
    expect(missing(key, [...EVENT_FIELDS, 'digit', 'duration_ms'])).toEqual([]);
    expect(key.digit).toBe('9');
  });
});
