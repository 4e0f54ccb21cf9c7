import { readFileSync } from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import type { Config } from '../config';

/** TLS / API-key options shared by the client and the worker connections. */
function tlsOptions(config: Config): ConnectionOptions['tls'] {
  const wantsTls = config.TEMPORAL_TLS || Boolean(config.TEMPORAL_TLS_CERT_PATH) || Boolean(config.TEMPORAL_API_KEY);
  if (!wantsTls) return undefined;
  return {
    serverNameOverride: config.TEMPORAL_TLS_SERVER_NAME,
    serverRootCACertificate: config.TEMPORAL_TLS_CA_PATH ? readFileSync(config.TEMPORAL_TLS_CA_PATH) : undefined,
    clientCertPair:
      config.TEMPORAL_TLS_CERT_PATH && config.TEMPORAL_TLS_KEY_PATH
        ? { crt: readFileSync(config.TEMPORAL_TLS_CERT_PATH), key: readFileSync(config.TEMPORAL_TLS_KEY_PATH) }
        : undefined,
  };
}

export function temporalAddress(config: Config): string {
  return config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.EMBEDDED_TEMPORAL_PORT}`;
}

export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({
    address: temporalAddress(config),
    tls: tlsOptions(config),
    apiKey: config.TEMPORAL_API_KEY,
    metadata: config.TEMPORAL_API_KEY ? { 'temporal-namespace': config.TEMPORAL_NAMESPACE } : undefined,
  });
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}

export async function connectWorker(config: Config): Promise<NativeConnection> {
  const options: NativeConnectionOptions = {
    address: temporalAddress(config),
    tls: tlsOptions(config) as NativeConnectionOptions['tls'],
    apiKey: config.TEMPORAL_API_KEY,
    metadata: config.TEMPORAL_API_KEY ? { 'temporal-namespace': config.TEMPORAL_NAMESPACE } : undefined,
  };
  return NativeConnection.connect(options);
}
