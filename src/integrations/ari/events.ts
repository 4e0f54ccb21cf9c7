import WebSocket from 'ws';
import { AriError } from './errors';
import { parseAriEvent } from './parse';
import type { AriEvent, AriEventsByType, OtherAriEvent } from './types';

export interface AriEventStreamOptions {
  /** Delay before the first reconnect attempt; doubles per failure up to `maxDelayMs`. */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number };
  /** How often to ping Asterisk; a missing pong means the connection is dead. 0 disables. */
  pingIntervalMs?: number;
}

interface StreamNotices {
  /** The first successful connection. */
  connected: undefined;
  /**
   * A later successful connection. Events sent while we were away are lost for good (Asterisk
   * does not buffer them), so calls in flight must be re-checked with `getChannel`.
   */
  reconnected: undefined;
  disconnected: { code: number; reason: string };
  /** Connection failures, unreadable messages, listeners that threw. The stream keeps going. */
  error: Error;
  /** Every event, including types the client does not model. */
  event: AriEvent | OtherAriEvent;
}

export type AriStreamListeners = AriEventsByType & StreamNotices;
type Listener = (payload: never) => void;

/**
 * The `/ari/events` WebSocket of one Stasis application: connects at once, reconnects with
 * exponential backoff after any drop, and hands out typed events.
 */
export class AriEventStream {
  private readonly listeners = new Map<string, Set<Listener>>();
  private socket: WebSocket | undefined;
  private closed = false;
  private everConnected = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly pingIntervalMs: number;

  constructor(
    private readonly url: string,
    options: AriEventStreamOptions = {},
  ) {
    this.minDelayMs = options.reconnect?.minDelayMs ?? 100;
    this.maxDelayMs = options.reconnect?.maxDelayMs ?? 5_000;
    this.pingIntervalMs = options.pingIntervalMs ?? 15_000;
    this.connect();
  }

  get isConnected(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  on<K extends keyof AriStreamListeners>(name: K, listener: (payload: AriStreamListeners[K]) => void): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener as Listener);
    return () => set.delete(listener as Listener);
  }

  /** The next `name` notice or event that matches, or a rejection after `timeoutMs`. */
  waitFor<K extends keyof AriStreamListeners>(
    name: K,
    matches: (payload: AriStreamListeners[K]) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<AriStreamListeners[K]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no ${String(name)} within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on(name, (payload) => {
        if (!matches(payload)) return;
        clearTimeout(timer);
        off();
        resolve(payload);
      });
    });
  }

  /** Resolves once connected (at once if already). */
  async ready(timeoutMs = 10_000): Promise<void> {
    if (this.isConnected) return;
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        offs.forEach((off) => off());
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(() => done(new Error(`ARI events not connected within ${timeoutMs} ms`)), timeoutMs);
      const offs = [this.on('connected', () => done()), this.on('reconnected', () => done())];
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.stopPing();
    const socket = this.socket;
    this.socket = undefined;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    if (socket.readyState !== WebSocket.OPEN) {
      socket.terminate();
      return;
    }
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => socket.terminate(), 2_000);
      socket.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      socket.close(1000, 'client closing');
    });
  }

  private connect(): void {
    const socket = new WebSocket(this.url, { handshakeTimeout: 10_000 });
    this.socket = socket;
    let opened = false;
    socket.on('open', () => {
      opened = true;
      this.failures = 0;
      const again = this.everConnected;
      this.everConnected = true;
      this.startPing(socket);
      this.emit(again ? 'reconnected' : 'connected', undefined);
    });
    socket.on('message', (data) => this.dispatch(data.toString()));
    socket.on('error', (error) => {
      if (this.closed) return;
      const code = (error as { code?: string }).code;
      this.emit('error', new AriError(`ARI events connection: ${error.message}`, undefined, true, code, { cause: error }));
    });
    socket.on('close', (code, reason) => {
      if (this.socket === socket) this.socket = undefined;
      this.stopPing();
      if (opened) this.emit('disconnected', { code, reason: reason.toString() });
      if (!this.closed) this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    const ceiling = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** this.failures);
    this.failures++;
    // Jitter keeps a fleet of workers from reconnecting in lockstep after an Asterisk restart.
    const delay = ceiling / 2 + (Math.random() * ceiling) / 2;
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.retryTimer.unref();
  }

  private startPing(socket: WebSocket): void {
    if (this.pingIntervalMs <= 0) return;
    let alive = true;
    socket.on('pong', () => (alive = true));
    this.pingTimer = setInterval(() => {
      if (!alive) return socket.terminate();
      alive = false;
      socket.ping();
    }, this.pingIntervalMs);
    this.pingTimer.unref();
  }

  private stopPing(): void {
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  private dispatch(text: string): void {
    const parsed = parseAriEvent(text);
    if (parsed.event === undefined) {
      this.emit('error', new AriError(`ARI event ignored: ${'problem' in parsed ? parsed.problem : ''}`, undefined, false));
      return;
    }
    if (parsed.known) this.emit(parsed.event.type, parsed.event as never);
    this.emit('event', parsed.event);
  }

  private emit<K extends keyof AriStreamListeners>(name: K, payload: AriStreamListeners[K]): void {
    for (const listener of [...(this.listeners.get(name) ?? [])]) {
      try {
        (listener as (p: AriStreamListeners[K]) => void)(payload);
      } catch (error) {
        if (name !== 'error') this.emit('error', error instanceof Error ? error : new Error(String(error)));
      }
    }
  }
}
