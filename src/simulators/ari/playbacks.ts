import type { Answer, CallHandle, CallSimulator } from './calls';
import type { KeypadRule, MediaTimes, SimConfig } from './config';
import { between, hashSeed, seededRandom } from './random';

/**
 * Prompts and keys: `POST /ari/channels/{id}/play[/{playbackId}]`, `GET`/`DELETE /ari/playbacks/{id}`
 * (Asterisk `channels.json`, `playbacks.json`), with `PlaybackStarted` / `PlaybackFinished` events,
 * and the person on the line pressing keys (`ChannelDtmfReceived`) from the keypad script of their
 * number. As in Asterisk, a playback asked for while another plays on the channel waits (queued).
 */

/** The ARI Playback object. */
export interface Playback {
  id: string;
  media_uri: string;
  next_media_uri?: string;
  target_uri: string;
  language: string;
  state: 'queued' | 'playing' | 'done';
}

/** One playback as `/_sim/playbacks` shows it. */
export interface PlaybackRecord {
  id: string;
  channelId: string;
  media: string[];
  state: Playback['state'];
  durationMs: number;
  requestedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Stopped by `DELETE /ari/playbacks/{id}` (or the call ended) before its end. */
  stopped: boolean;
}

interface LivePlayback extends PlaybackRecord {
  call: CallHandle;
}

/** A person's progress through their keypad script. */
interface Listener {
  rule: KeypadRule | undefined;
  prompts: number;
  playbacks: number;
  random: () => number;
}

export interface PlaybackStats {
  playbacksStarted: number;
  /** Playbacks asked for while another was still playing on the same channel. */
  playbacksQueued: number;
  playbacksStopped: number;
  /** Plays refused because the playback id was already live. */
  duplicatePlaybacksRefused: number;
  keysPressed: number;
}

const MEDIA = /^(sound|recording|digits|number|tone):(.+)$/;
const HISTORY_LIMIT = 20_000;

export class PlaybackSimulator {
  private readonly live = new Map<string, LivePlayback>();
  private readonly byChannel = new Map<string, string[]>();
  private readonly listeners = new Map<string, Listener>();
  private history: LivePlayback[] = [];
  private counters: PlaybackStats = { playbacksStarted: 0, playbacksQueued: 0, playbacksStopped: 0, duplicatePlaybacksRefused: 0, keysPressed: 0 };
  private sequence = 0;

  constructor(
    private readonly calls: CallSimulator,
    private readonly config: () => SimConfig,
  ) {
    calls.onEnding((channelId) => this.channelEnding(channelId));
  }

  play(channelId: string, playbackId: string | undefined, media: string[]): Answer<Playback> {
    if (media.length === 0) return { status: 400, message: 'media: Missing value' };
    const bad = media.find((m) => !MEDIA.test(m));
    if (bad) return { status: 400, message: `Invalid media URI: ${bad}` };
    const call = this.calls.handle(channelId);
    if (!call) return { status: 404, message: 'Channel not found' };
    if (!call.inStasis()) return { status: 409, message: 'Channel not in Stasis application' };
    const id = playbackId || `${Date.now()}.${++this.sequence}`;
    if (this.live.has(id)) {
      this.counters.duplicatePlaybacksRefused++;
      return { status: 409, message: 'A playback with this id is already in progress' };
    }
    const playback: LivePlayback = {
      id,
      channelId,
      media,
      state: 'queued',
      durationMs: media.reduce((sum, m) => sum + mediaMs(m, this.config().media), 0),
      requestedAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      stopped: false,
      call,
    };
    this.live.set(id, playback);
    this.remember(playback);
    const queue = this.byChannel.get(channelId) ?? [];
    queue.push(id);
    this.byChannel.set(channelId, queue);
    if (queue.length === 1) call.after(0, () => this.start(playback));
    else this.counters.playbacksQueued++;
    return { status: 200, body: toAri(playback) };
  }

  get(playbackId: string): Answer<Playback> {
    const playback = this.live.get(playbackId);
    return playback ? { status: 200, body: toAri(playback) } : { status: 404, message: 'Playback not found' };
  }

  /** `DELETE /ari/playbacks/{id}`: stops it (PlaybackFinished follows); 404 once it is over. */
  stop(playbackId: string): Answer<never> {
    const playback = this.live.get(playbackId);
    if (!playback) return { status: 404, message: 'Playback not found' };
    this.counters.playbacksStopped++;
    this.finish(playback, true);
    return { status: 204 };
  }

  list(channelId?: string): PlaybackRecord[] {
    const chosen = channelId ? this.history.filter((p) => p.channelId === channelId) : this.history;
    return chosen.map(({ id, channelId: channel, media, state, durationMs, requestedAt, startedAt, finishedAt, stopped }) => ({
      id,
      channelId: channel,
      media,
      state,
      durationMs,
      requestedAt,
      startedAt,
      finishedAt,
      stopped,
    }));
  }

  stats(): PlaybackStats {
    return { ...this.counters };
  }

  reset(): void {
    this.live.clear();
    this.byChannel.clear();
    this.listeners.clear();
    this.history = [];
    this.counters = { playbacksStarted: 0, playbacksQueued: 0, playbacksStopped: 0, duplicatePlaybacksRefused: 0, keysPressed: 0 };
  }

  private start(playback: LivePlayback): void {
    if (this.live.get(playback.id) !== playback) return;
    playback.state = 'playing';
    playback.startedAt = new Date().toISOString();
    this.counters.playbacksStarted++;
    playback.call.emitToApp('PlaybackStarted', { playback: toAri(playback) });
    playback.call.after(playback.durationMs, () => this.finish(playback, false));
    this.listen(playback);
  }

  private finish(playback: LivePlayback, stopped: boolean): void {
    if (this.live.get(playback.id) !== playback) return;
    const wasPlaying = playback.state === 'playing';
    playback.state = 'done';
    playback.stopped = stopped;
    playback.finishedAt = new Date().toISOString();
    this.live.delete(playback.id);
    const queue = (this.byChannel.get(playback.channelId) ?? []).filter((id) => id !== playback.id);
    this.byChannel.set(playback.channelId, queue);
    if (wasPlaying || stopped) playback.call.emitToApp('PlaybackFinished', { playback: toAri(playback) });
    if (!stopped) this.answer(playback);
    const next = queue[0] !== undefined ? this.live.get(queue[0]) : undefined;
    if (next && next.state === 'queued' && playback.call.inStasis()) this.start(next);
  }

  /** The person hears a playback start: maybe hangs up halfway, maybe presses over it (bargeIn). */
  private listen(playback: LivePlayback): void {
    const person = this.personOn(playback.call);
    person.playbacks++;
    if (person.rule?.hangupDuringPlayback === person.playbacks) {
      playback.call.after(Math.floor(playback.durationMs / 2), () => playback.call.hangUp());
      return;
    }
    if (!this.isPrompt(person, playback)) return;
    person.prompts++;
    if (person.rule?.bargeIn) this.press(playback.call, person, person.prompts);
  }

  /** A prompt played to its end: the person answers it (unless they answer while it plays). */
  private answer(playback: LivePlayback): void {
    const person = this.listeners.get(playback.channelId);
    if (!person || person.rule?.bargeIn || !this.isPrompt(person, playback)) return;
    this.press(playback.call, person, person.prompts);
  }

  private press(call: CallHandle, person: Listener, prompt: number): void {
    const keys = person.rule?.keys[prompt - 1] ?? '';
    if (keys === '') return;
    const config = this.config();
    const first = between(person.random, config.keyDelayMs);
    [...keys].forEach((digit, i) => {
      call.after(first + i * config.interDigitMs, () => {
        if (!call.inStasis()) return;
        this.counters.keysPressed++;
        call.emit('ChannelDtmfReceived', { digit, duration_ms: 120 });
      });
    });
  }

  private isPrompt(person: Listener, playback: PlaybackRecord): boolean {
    return new RegExp(person.rule?.promptMatch ?? '.').test(playback.media.join(','));
  }

  private personOn(call: CallHandle): Listener {
    let person = this.listeners.get(call.channel.id);
    if (!person) {
      const config = this.config();
      const rule = config.keypad.find((r) => new RegExp(r.match).test(call.number));
      person = { rule, prompts: 0, playbacks: 0, random: seededRandom(hashSeed(config.seed, `keys#${call.channel.id}`)) };
      this.listeners.set(call.channel.id, person);
    }
    return person;
  }

  /** The call is going: its playbacks end (PlaybackFinished before StasisEnd, as in Asterisk). */
  private channelEnding(channelId: string): void {
    for (const id of this.byChannel.get(channelId) ?? []) {
      const playback = this.live.get(id);
      if (playback) this.finish(playback, true);
    }
    this.byChannel.delete(channelId);
    this.listeners.delete(channelId);
  }

  private remember(playback: LivePlayback): void {
    this.history.push(playback);
    if (this.history.length > HISTORY_LIMIT) this.history = this.history.slice(-HISTORY_LIMIT / 2);
  }
}

function mediaMs(uri: string, times: MediaTimes): number {
  const exact = times.overrides[uri];
  if (exact !== undefined) return exact;
  const [, scheme = '', rest = ''] = MEDIA.exec(uri) ?? [];
  if (scheme === 'digits') return rest.length * times.digitMs;
  if (scheme === 'number') return times.numberMs;
  if (scheme === 'recording') return times.recordingMs;
  return times.soundMs;
}

function toAri(p: PlaybackRecord): Playback {
  return {
    id: p.id,
    media_uri: p.media[0] as string,
    ...(p.media.length > 1 ? { next_media_uri: p.media[1] } : {}),
    target_uri: `channel:${p.channelId}`,
    language: 'en',
    state: p.state,
  };
}
