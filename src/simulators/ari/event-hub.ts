import WebSocket from 'ws';
import { asteriskTime } from './format';

/**
 * Who listens to which Stasis application. As in Asterisk, an application belongs to one
 * WebSocket at a time: a newer connection takes it over and the older one gets
 * `ApplicationReplaced`. Events for an application nobody holds are lost, as in Asterisk.
 */
export class EventHub {
  private readonly holders = new Map<string, WebSocket>();
  private readonly sockets = new Set<WebSocket>();
  /** Sockets that asked for `subscribeAll`: every event, under their own application's name. */
  private readonly everything = new Map<WebSocket, string>();
  eventsSent = 0;

  constructor(private readonly asteriskId: string) {}

  attach(socket: WebSocket, apps: string[], subscribeAll = false): void {
    this.sockets.add(socket);
    if (subscribeAll) this.everything.set(socket, apps[0]);
    for (const app of apps) {
      const previous = this.holders.get(app);
      if (previous && previous !== socket) this.send(previous, app, { type: 'ApplicationReplaced' });
      this.holders.set(app, socket);
    }
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.everything.delete(socket);
      for (const [app, holder] of this.holders) if (holder === socket) this.holders.delete(app);
    });
  }

  publish(app: string, event: Record<string, unknown>): void {
    const socket = this.holders.get(app);
    if (socket && !this.everything.has(socket)) this.send(socket, app, event);
    this.publishToAll(event);
  }

  /** An event only `subscribeAll` listeners get (e.g. ChannelCreated: the originating app is subscribed after it). */
  publishToAll(event: Record<string, unknown>): void {
    for (const [socket, app] of this.everything) this.send(socket, app, event);
  }

  get connections(): number {
    return this.sockets.size;
  }

  /** Cuts every connection abruptly, like a network failure (no close handshake). */
  dropAll(): void {
    for (const socket of this.sockets) socket.terminate();
  }

  private send(socket: WebSocket, app: string, event: Record<string, unknown>): void {
    if (socket.readyState !== WebSocket.OPEN) return;
    const { type, ...rest } = event;
    const message = { type, timestamp: asteriskTime(new Date()), ...rest, asterisk_id: this.asteriskId, application: app };
    socket.send(JSON.stringify(message));
    this.eventsSent++;
  }
}
