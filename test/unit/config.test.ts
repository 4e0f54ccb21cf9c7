import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config';

describe('configuration', () => {
  it('has embedded defaults when nothing is set', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({ API_PORT: 3000, TEMPORAL_NAMESPACE: 'default', DATA_DIR: '.data' });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.TEMPORAL_ADDRESS).toBeUndefined();
  });

  it('treats an empty variable as unset', () => {
    const config = parseConfig({ DATABASE_URL: '', TEMPORAL_ADDRESS: ' ' });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.TEMPORAL_ADDRESS).toBeUndefined();
  });

  it('names each bad variable and what it expects', () => {
    let error: unknown;
    try {
      parseConfig({ API_PORT: 'eighty', DATABASE_URL: 'mysql://x/y', TEMPORAL_TLS: 'maybe' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.map((p) => p.variable).sort()).toEqual(['API_PORT', 'DATABASE_URL', 'TEMPORAL_TLS']);
    expect((error as ConfigError).message).toMatch(/API_PORT: .*number/i);
    expect((error as ConfigError).message).toContain('.env.example');
  });

  it('parses booleans and numbers from strings', () => {
    expect(parseConfig({ TEMPORAL_TLS: 'true', API_PORT: '8080' })).toMatchObject({ TEMPORAL_TLS: true, API_PORT: 8080 });
  });
});
