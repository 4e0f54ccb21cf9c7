import { broadcastConsolidatedSource, broadcastDetailedSource } from './broadcast';
import { callsSource, dialerCampaignsSource } from './dialer';
import { interactionsSource } from './interactions';
import { ivrCallsSource } from './ivr';
import { activitySource, importHistorySource, usersSource } from './people';
import type { ReportSource } from './source';

/** The source of each report of the catalogue (src/domain/reports/catalogue.ts), by id. */
export const reportSources: Record<string, ReportSource> = {
  interactions: interactionsSource,
  ivr: ivrCallsSource,
  users: usersSource,
  calls: callsSource,
  activity: activitySource,
  'broadcast-consolidated': broadcastConsolidatedSource,
  'broadcast-detailed': broadcastDetailedSource,
  'import-history-broadcast': importHistorySource('broadcast'),
  'import-history-dialer': importHistorySource('dialer'),
  'dialer-campaigns': dialerCampaignsSource,
  /** GET /v1/imports/history.csv: every kind, or the one asked for. */
  'import-history': importHistorySource(),
};

export type { ReportPage, ReportQuery, ReportSource } from './source';
