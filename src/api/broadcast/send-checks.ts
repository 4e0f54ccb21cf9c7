import { sql, type Kysely } from 'kysely';
import type { Database, WhatsAppChannel, WhatsAppTemplateRow } from '../../db/schema';
import { BUILTIN_COLUMNS, findColumn, refuseMissingVariables, type MissingVariables, type VariableMapping } from '../../domain/broadcast';
import { unprocessable } from '../problem';

/** Checks a send must pass on create and on edit: a usable template, a mapping that fits it, a pace the channel allows. */

/** The channel's template, which must be APPROVED (422 otherwise). */
export async function usableTemplate(db: Kysely<Database>, channelId: string, wanted: { name: string; language: string }): Promise<WhatsAppTemplateRow> {
  const template = await db
    .selectFrom('whatsapp_templates')
    .selectAll()
    .where('channel_id', '=', channelId)
    .where('name', '=', wanted.name)
    .where('language', '=', wanted.language)
    .executeTakeFirst();
  if (!template) {
    throw unprocessable('TEMPLATE_NOT_FOUND', `The channel has no template "${wanted.name}" in ${wanted.language}; synchronise the templates first.`);
  }
  if (template.status !== 'APPROVED') {
    throw unprocessable(
      'TEMPLATE_NOT_APPROVED',
      `The template "${template.name}" (${template.language}) is ${template.status}; only APPROVED templates can be sent.`,
      { templateStatus: template.status },
    );
  }
  return template;
}

/** Every placeholder mapped and nothing else: a wrong count is a 422, not thousands of failed messages. */
export function checkMapping(template: WhatsAppTemplateRow, variables: VariableMapping): void {
  const expected = template.placeholders;
  const given = Object.keys(variables);
  const missing = expected.filter((p) => !given.includes(p));
  const extra = given.filter((p) => !expected.includes(p));
  if (missing.length || extra.length) {
    throw unprocessable(
      'TEMPLATE_VARIABLES_MISMATCH',
      `The template "${template.name}" has ${expected.length} placeholder(s) ` +
        `(${expected.map((p) => `{{${p}}}`).join(', ') || 'none'}); the mapping gives ${given.length}.` +
        (missing.length ? ` Missing: ${missing.join(', ')}.` : '') +
        (extra.length ? ` Not in the template: ${extra.join(', ')}.` : ''),
      { expected, missing, extra },
    );
  }
}

/** A default policy fits the template's mapping: a default per column-mapped placeholder, none for a name not in the template. */
export function checkMissingVariables(template: WhatsAppTemplateRow, variables: VariableMapping, policy: MissingVariables): void {
  const refusal = refuseMissingVariables(policy, variables, template.placeholders);
  if (refusal) throw unprocessable(refusal.code, refusal.message, refusal.details);
}

/** The pace, never above the channel's throughput limit. */
export function checkPace(pace: number, channel: WhatsAppChannel): number {
  if (pace > channel.mps_limit) {
    throw unprocessable('PACE_ABOVE_CHANNEL_LIMIT', `The pace ${pace} msg/s is above the channel's limit of ${channel.mps_limit} msg/s.`, {
      limit: channel.mps_limit,
    });
  }
  return pace;
}

/** Every mapped column exists in the group (a built-in field or a CSV column seen in its first rows). */
export async function checkColumns(db: Kysely<Database>, groupId: string, variables: VariableMapping): Promise<void> {
  const columns = [
    ...Object.keys(BUILTIN_COLUMNS),
    ...(
      await sql<{
        k: string;
      }>`SELECT DISTINCT jsonb_object_keys(custom) AS k FROM (SELECT custom FROM contacts WHERE group_id = ${groupId} ORDER BY id LIMIT 500) c`.execute(db)
    ).rows.map((r) => r.k),
  ];
  for (const [placeholder, source] of Object.entries(variables)) {
    if ('column' in source && !findColumn(source.column, columns)) {
      throw unprocessable('VARIABLE_COLUMN_UNKNOWN', `Placeholder {{${placeholder}}} names the column "${source.column}", which the group does not have.`, {
        placeholder,
        column: source.column,
        columns,
      });
    }
  }
}
