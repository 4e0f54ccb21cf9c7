import { AriError } from './errors';
import type { AriResponse, Query } from './http';
import { parsePlayback } from './parse';
import type { Playback } from './types';

type Request = (operation: string, method: 'GET' | 'POST' | 'DELETE', path: string, query?: Query) => Promise<AriResponse>;

/** What asking for a prompt came to. */
export type PlayResult =
  | { status: 'playing'; playback: Playback }
  /** The channel is gone (hung up). */
  | { status: 'channel_gone' }
  /** 409: the channel is not in our Stasis application (it left for the dialplan), or the id is taken by a live playback. */
  | { status: 'refused'; message: string };

export interface AriPrompts {
  /**
   * Plays media in order on a channel under our own playback id (derived from the call and its step,
   * so a retried request names the same playback: look it up with `getPlayback` before replaying).
   */
  play(channelId: string, playbackId: string, media: string[]): Promise<PlayResult>;
  /** The playback while it is queued or playing; undefined once it is over. */
  getPlayback(playbackId: string): Promise<Playback | undefined>;
  /** Stops a playback (PlaybackFinished follows); false when it was already over. */
  stopPlayback(playbackId: string): Promise<boolean>;
}

/** The Playbacks part of ARI (shared/ari-contract.md, "Prompts"), over the client's HTTP. */
export function ariPrompts(request: Request): AriPrompts {
  const playbackFrom = (operation: string, body: string) => {
    try {
      return parsePlayback(JSON.parse(body));
    } catch (error) {
      throw new AriError(`ARI ${operation}: unreadable playback in response`, 200, false, 'BAD_RESPONSE', { cause: error });
    }
  };
  const messageOf = (body: string) => {
    try {
      return String((JSON.parse(body) as { message?: unknown }).message ?? body);
    } catch {
      return body;
    }
  };
  const playbackPath = (id: string) => `/ari/playbacks/${encodeURIComponent(id)}`;
  return {
    async play(channelId, playbackId, media) {
      const path = `/ari/channels/${encodeURIComponent(channelId)}/play/${encodeURIComponent(playbackId)}`;
      const { status, body } = await request('play', 'POST', path, { media: media.join(',') });
      if (status === 200 || status === 201) return { status: 'playing', playback: playbackFrom('play', body) };
      if (status === 404) return { status: 'channel_gone' };
      if (status === 409) return { status: 'refused', message: messageOf(body) };
      throw AriError.fromStatus('play', status, body);
    },
    async getPlayback(playbackId) {
      const { status, body } = await request('get playback', 'GET', playbackPath(playbackId));
      if (status === 200) return playbackFrom('get playback', body);
      if (status === 404) return undefined;
      throw AriError.fromStatus('get playback', status, body);
    },
    async stopPlayback(playbackId) {
      const { status, body } = await request('stop playback', 'DELETE', playbackPath(playbackId));
      if (status === 204 || status === 200) return true;
      if (status === 404) return false;
      throw AriError.fromStatus('stop playback', status, body);
    },
  };
}
