import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** A response to write: status and an optional JSON body. */
export interface Reply {
  status: number;
  json?: unknown;
}

export const reply = (status: number, json?: unknown): Reply => ({ status, json });
/** ARI's error bodies are `{"message": "…"}`. */
export const problem = (status: number, message: string): Reply => ({ status, json: { message } });

export function send(res: ServerResponse, { status, json }: Reply, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return;
  if (json === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  const body = JSON.stringify(json);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers }).end(body);
}

export async function readBody(req: IncomingMessage, limitBytes = 1_000_000): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Like Asterisk: HTTP Basic, or `api_key=user:password` in the query (how WebSockets log in). */
export function isAuthorized(req: IncomingMessage, url: URL, username: string, password: string): boolean {
  const expected = `${username}:${password}`;
  const apiKey = url.searchParams.get('api_key');
  if (apiKey !== null) return apiKey === expected;
  const header = req.headers.authorization ?? '';
  const match = /^Basic\s+(.+)$/i.exec(header);
  return match !== null && Buffer.from(match[1], 'base64').toString('utf8') === expected;
}

/** Refuses a WebSocket upgrade with a plain HTTP answer. */
export function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
