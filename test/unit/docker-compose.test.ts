import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configVariables, parseConfig } from '../../src/config';
import { customSearchAttributes } from '../../src/workflows/search-attributes';

// No Docker engine runs on our machines: this checks the compose file agrees with the code instead.
const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true });
const services = compose.services as Record<
  string,
  { image?: string; build?: unknown; environment?: Record<string, string>; ports?: string[]; command?: string[] }
>;
const ours = ['api', 'worker', 'migrate'];

describe('docker-compose.yml', () => {
  it('has PostgreSQL, a Temporal server, the Temporal UI, our api and worker', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgres', 'temporal', 'temporal-ui', 'api', 'worker', 'migrate', 'temporal-setup']));
    expect(services.temporal.image).toMatch(/^temporalio\/server:/);
    expect(JSON.stringify(compose)).not.toContain('temporalio/auto-setup');
    for (const name of ours) expect(services[name].build).toBeDefined();
  });

  it('sets only variables our config knows, with values it accepts', () => {
    for (const name of ours) {
      const env = services[name].environment ?? {};
      for (const variable of Object.keys(env)) expect(configVariables, `${name}: ${variable}`).toContain(variable);
      expect(() => parseConfig(env)).not.toThrow();
    }
  });

  it('points the services at each other on the ports they publish', () => {
    const api = parseConfig(services.api.environment ?? {});
    expect(services.api.ports).toContain(`${api.API_PORT}:${api.API_PORT}`);
    const worker = parseConfig(services.worker.environment ?? {});
    expect(services.worker.ports).toContain(`${worker.WORKER_METRICS_PORT}:${worker.WORKER_METRICS_PORT}`);
    const db = new URL(api.DATABASE_URL!);
    expect(db.hostname).toBe('postgres');
    expect(services.postgres.ports?.some((p) => p.endsWith(`:${db.port}`))).toBe(true);
    expect(services.postgres.environment).toMatchObject({ POSTGRES_USER: db.username, POSTGRES_PASSWORD: db.password, POSTGRES_DB: db.pathname.slice(1) });
    const [host, port] = api.TEMPORAL_ADDRESS!.split(':');
    expect(host).toBe('temporal');
    expect(services.temporal.ports).toContain(`${port}:${port}`);
    expect(services['temporal-ui'].environment?.TEMPORAL_ADDRESS).toBe(api.TEMPORAL_ADDRESS);
  });

  it('registers exactly our search attributes in our namespace', () => {
    const setup = services['temporal-setup'].environment ?? {};
    expect(setup.OMNI_SEARCH_ATTRIBUTES.split(/\s+/).sort()).toEqual(customSearchAttributes.map((k) => k.name).sort());
    expect(setup.TEMPORAL_NAMESPACE).toBe(parseConfig(services.api.environment ?? {}).TEMPORAL_NAMESPACE);
  });

  it('.env.example lists every config variable', () => {
    const listed = readFileSync('.env.example', 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => l.split('=')[0]);
    expect(listed.sort()).toEqual([...configVariables].sort());
  });
});
