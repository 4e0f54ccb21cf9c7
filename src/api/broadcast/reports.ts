import type { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema';
import type { ReportLocale } from '../../domain/reports/cells';
import { reportCsvStream } from '../reports/stream';

/**
 * Relatório de Broadcast HSM Consolidado: per day (São Paulo), campaign, send and template — totals
 * and delivery/read rates (the catalogue's `broadcast-consolidated`).
 */
export function consolidatedReport(db: Kysely<Database>, tenantId: string, filter: { campaignId?: string; sendId?: string }, locale?: ReportLocale): Readable {
  return reportCsvStream(db, 'broadcast-consolidated', { tenantId, filters: filter }, locale);
}

/** Relatório de Broadcast HSM Detalhado: one row per message, streamed page by page (the catalogue's `broadcast-detailed`). */
export function detailedReport(db: Kysely<Database>, tenantId: string, sendId: string, locale?: ReportLocale): Readable {
  return reportCsvStream(db, 'broadcast-detailed', { tenantId, filters: { sendId } }, locale);
}
