import type { Migration } from 'kysely/migration';
import * as m0001 from './0001_foundation';
import * as m0002 from './0002_contacts';
import * as m0003 from './0003_dialer';
import * as m0004 from './0004_broadcast';
import * as m0005 from './0005_dialer_recurrence_amd';
import * as m0006 from './0006_broadcast_limits';
import * as m0007 from './0007_group_phone_sets';
import * as m0008 from './0008_broadcast_message_hot_updates';
import * as m0009 from './0009_broadcast_rate_windows';
import * as m0010 from './0010_upload_chunks_uncompressed';
import * as m0011 from './0011_contacts_without_import_line_key';
import * as m0020 from './0020_import_cancel_flag';
import * as m0021 from './0021_audit_actor_kind';
import * as m0030 from './0030_ari_event_journal';
import * as m0040 from './0040_security';
import * as m0050 from './0050_mercadolivre';
import * as m0060 from './0060_interactions';
import * as m0061 from './0061_report_runs';
import * as m0070 from './0070_agents';
import * as m0090 from './0090_ivr_flows';
import * as m0100 from './0100_broadcast_missing_variables';
import * as m0105 from './0105_campaign_archive';
import * as m0115 from './0115_ml_messages_sending';
import * as m0120 from './0120_console_sign_in';
import * as m0140 from './0140_dialer_pacing_live';
import * as m0150 from './0150_dial_attempt_agents';
import * as m0180 from './0180_upload_arriving';
import * as m0190 from './0190_company_contact_ml_buyers';
import * as m0200 from './0200_broadcast_send_tallies';

/**
 * Every migration, in order. Static imports (not a folder scan) so the same list works
 * under tsx, vitest and a bundled build. A new one takes the next number after the highest, at the
 * end; never edit an applied one.
 */
export const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_contacts': m0002,
  '0003_dialer': m0003,
  '0004_broadcast': m0004,
  '0005_dialer_recurrence_amd': m0005,
  '0006_broadcast_limits': m0006,
  '0007_group_phone_sets': m0007,
  '0008_broadcast_message_hot_updates': m0008,
  '0009_broadcast_rate_windows': m0009,
  '0010_upload_chunks_uncompressed': m0010,
  '0011_contacts_without_import_line_key': m0011,
  '0020_import_cancel_flag': m0020,
  '0021_audit_actor_kind': m0021,
  '0030_ari_event_journal': m0030,
  '0040_security': m0040,
  '0050_mercadolivre': m0050,
  '0060_interactions': m0060,
  '0061_report_runs': m0061,
  '0070_agents': m0070,
  '0090_ivr_flows': m0090,
  '0100_broadcast_missing_variables': m0100,
  '0105_campaign_archive': m0105,
  '0115_ml_messages_sending': m0115,
  '0120_console_sign_in': m0120,
  '0140_dialer_pacing_live': m0140,
  '0150_dial_attempt_agents': m0150,
  '0180_upload_arriving': m0180,
  '0190_company_contact_ml_buyers': m0190,
  '0200_broadcast_send_tallies': m0200,
};
