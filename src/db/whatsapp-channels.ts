import type { Kysely } from 'kysely';
import { createWhatsAppClient, type WhatsAppClient } from '../integrations/whatsapp/client';
import type { Database, WhatsAppChannel } from './schema';
import { createSecretBox } from './secrets';

/** Where the Cloud API is and how to open the channels' secrets; shared by the API and the worker. */
export interface WhatsAppAccess {
  /** `https://graph.facebook.com` by default; the simulator's URL in the embedded stack and tests. */
  graphUrl?: string;
  graphVersion?: string;
  secretsKey?: string;
  /** Keep-alive sockets per channel client. */
  connections?: number;
}

export const DEFAULT_GRAPH_URL = 'https://graph.facebook.com';

/**
 * One Cloud API client per channel (and per access token), kept for reuse: the keep-alive pool is
 * what lets a worker send hundreds of messages per second.
 */
export function createChannelClients(db: Kysely<Database>, access: WhatsAppAccess) {
  const box = createSecretBox(access.secretsKey);
  const clients = new Map<string, { sealed: string; client: WhatsAppClient }>();
  const channels = new Map<string, { row: WhatsAppChannel; at: number }>();

  async function channel(channelId: string, maxAgeMs = 10_000): Promise<WhatsAppChannel> {
    const cached = channels.get(channelId);
    if (cached && Date.now() - cached.at < maxAgeMs) return cached.row;
    const row = await db.selectFrom('whatsapp_channels').selectAll().where('id', '=', channelId).executeTakeFirst();
    if (!row) throw new Error(`WhatsApp channel ${channelId} does not exist`);
    channels.set(channelId, { row, at: Date.now() });
    return row;
  }

  function clientFor(row: WhatsAppChannel): WhatsAppClient {
    const cached = clients.get(row.id);
    if (cached && cached.sealed === row.access_token_enc) return cached.client;
    if (cached) void cached.client.close();
    const client = createWhatsAppClient({
      baseUrl: access.graphUrl ?? DEFAULT_GRAPH_URL,
      version: access.graphVersion,
      accessToken: box.open(row.access_token_enc),
      connections: access.connections ?? 128,
    });
    clients.set(row.id, { sealed: row.access_token_enc, client });
    return client;
  }

  return {
    channel,
    clientFor,
    appSecret: (row: WhatsAppChannel) => box.open(row.app_secret_enc),
    async close() {
      await Promise.all([...clients.values()].map((c) => c.client.close()));
      clients.clear();
    },
  };
}

export type ChannelClients = ReturnType<typeof createChannelClients>;
