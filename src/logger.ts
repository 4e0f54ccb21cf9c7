import pino, { type Logger } from 'pino';
import type { Config } from './config';

/** Structured JSON logs (pino); pipe through `npx pino-pretty` to read them by eye. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, name: string): Logger {
  return pino({ name, level: config.LOG_LEVEL });
}

export const isMain = (metaUrl: string): boolean => {
  const entry = process.argv[1];
  if (!entry) return false;
  return metaUrl === new URL(`file://${entry}`).href || metaUrl.replace(/\.ts$/, '') === new URL(`file://${entry}`).href.replace(/\.ts$/, '');
};
