import pino, { type Logger } from 'pino';
import type { Config } from './config';

/** Structured JSON logs (pino); pipe through `npx pino-pretty` to read them by eye. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, name: string): Logger {
  return pino({ name, level: config.LOG_LEVEL });
}

/** Query parameters whose values are credentials (`hub.verify_token`, `api_key`, `access_token`, …). */
const SECRET_PARAM = /token|key|secret|passw|signature|auth|session|code|challenge|sig$/i;

/** A request URL fit for the logs: the value of every credential-like query parameter replaced. */
export function redactUrl(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const parts = url
    .slice(at + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawName = eq < 0 ? pair : pair.slice(0, eq);
      let name = rawName;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      } catch {
        // a malformed escape: judge the raw name
      }
      return eq >= 0 && SECRET_PARAM.test(name) ? `${rawName}=[REDACTED]` : pair;
    });
  return `${url.slice(0, at)}?${parts.join('&')}`;
}

/** Fastify's request log line, with the URL redacted. */
export const requestSerializer = (request: { method: string; url: string; hostname?: string; ip?: string; socket?: { remotePort?: number } }) => ({
  method: request.method,
  url: redactUrl(request.url),
  hostname: request.hostname,
  remoteAddress: request.ip,
  remotePort: request.socket?.remotePort,
});

export const isMain = (metaUrl: string): boolean => {
  const entry = process.argv[1];
  if (!entry) return false;
  return metaUrl === new URL(`file://${entry}`).href || metaUrl.replace(/\.ts$/, '') === new URL(`file://${entry}`).href.replace(/\.ts$/, '');
};
