import { connect, type Socket } from 'node:net';

/** A raw HTTP/1.1 connection: what a slow or misbehaving client does, byte by byte. */
export interface RawConnection {
  socket: Socket;
  write(data: string | Buffer): void;
  /** Everything received so far. */
  received(): string;
  /** Resolves once the server closed the connection (or `deadlineMs` passed: false). */
  closed(deadlineMs: number): Promise<boolean>;
  /** Resolves with the received text once it holds `count` complete response heads, or undefined at the deadline. */
  responses(count: number, deadlineMs: number): Promise<string | undefined>;
}

export async function openRaw(port: number): Promise<RawConnection> {
  const socket = connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let text = '';
  let ended = false;
  const waiters = new Set<() => void>();
  const wake = () => waiters.forEach((w) => w());
  socket.on('data', (chunk) => {
    text += chunk.toString('latin1');
    wake();
  });
  socket.on('close', () => {
    ended = true;
    wake();
  });
  socket.on('error', () => undefined);
  const until = (test: () => boolean, deadlineMs: number) =>
    new Promise<boolean>((resolve) => {
      if (test()) return resolve(true);
      const timer = setTimeout(() => {
        waiters.delete(check);
        resolve(false);
      }, deadlineMs);
      const check = () => {
        if (!test()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(true);
      };
      waiters.add(check);
    });
  return {
    socket,
    write: (data) => void (socket.writable && socket.write(data)),
    received: () => text,
    closed: (deadlineMs) => until(() => ended, deadlineMs),
    responses: async (count, deadlineMs) => ((await until(() => (text.match(/HTTP\/1\.1 \d{3}/g) ?? []).length >= count, deadlineMs)) ? text : undefined),
  };
}

/** The head of a multipart upload with a declared length, and its opening (up to the file's first byte). */
export function uploadHead(options: { path: string; key: string; contentLength: number; boundary: string; fields?: Record<string, string> }): {
  head: string;
  opening: string;
} {
  const fields = Object.entries(options.fields ?? {})
    .map(([name, value]) => `--${options.boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
    .join('');
  const opening = `${fields}--${options.boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.csv"\r\nContent-Type: text/csv\r\n\r\n`;
  const head =
    `POST ${options.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${options.key}\r\n` +
    `Content-Type: multipart/form-data; boundary=${options.boundary}\r\nContent-Length: ${options.contentLength}\r\nConnection: keep-alive\r\n\r\n`;
  return { head, opening };
}
