import { z } from 'zod';
import type { CompanyContact } from '../../db/schema';
import { FIELD_LIMITS } from '../../domain/contact-csv/row';
import { phoneText } from '../phone-schema';

export const MAX_PHONES = 10;

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .nullable()
    .transform((v) => (v === '' ? null : v));

/** The writable fields. Phones are checked (and normalised) by the route: each bad one is listed. */
export const companyContactFields = {
  name: z.string().trim().min(1, 'is required').max(FIELD_LIMITS.name),
  phones: z
    .array(phoneText)
    .min(1, 'needs at least one phone')
    .max(MAX_PHONES, `at most ${MAX_PHONES} phones`)
    .describe('Brazilian phones with DDI 55: landline 12 digits, mobile 13 (spaces, +, -, ., ( ) are removed)'),
  email: optionalText(FIELD_LIMITS.email).refine((v) => v === null || /^[^\s@]+@[^\s@]+$/.test(v), 'is not an e-mail address'),
  document: optionalText(FIELD_LIMITS.document).describe('CPF/CNPJ or any document, stored as given'),
  custom: z
    .record(z.string().trim().min(1).max(100), z.string().max(FIELD_LIMITS.custom))
    .refine((r) => Object.keys(r).length <= 50, 'at most 50 custom fields')
    .describe('Custom fields (template variables), as the extra columns of an import'),
  optOutVoice: z.boolean().describe('Opted out of voice campaigns (the dialer skips every phone of the contact)'),
  optOutWhatsapp: z.boolean().describe('Opted out of WhatsApp campaigns'),
  mercadoLivreBuyerIds: z
    .array(z.string().regex(/^\d{1,20}$/, 'a Mercado Livre user id (digits)'))
    .max(10, 'at most 10 buyer ids')
    .describe("The person's Mercado Livre buyer ids: their questions and messages appear in the contact's timeline"),
};

export const createCompanyContactBody = z
  .object({
    ...companyContactFields,
    email: companyContactFields.email.optional(),
    document: companyContactFields.document.optional(),
    custom: companyContactFields.custom.optional(),
    optOutVoice: companyContactFields.optOutVoice.default(false),
    optOutWhatsapp: companyContactFields.optOutWhatsapp.default(false),
    mercadoLivreBuyerIds: companyContactFields.mercadoLivreBuyerIds.default([]),
  })
  .strict();

export const updateCompanyContactBody = z
  .object({
    name: companyContactFields.name.optional(),
    phones: companyContactFields.phones.optional(),
    email: companyContactFields.email.optional(),
    document: companyContactFields.document.optional(),
    custom: companyContactFields.custom.optional(),
    optOutVoice: companyContactFields.optOutVoice.optional(),
    optOutWhatsapp: companyContactFields.optOutWhatsapp.optional(),
    mercadoLivreBuyerIds: companyContactFields.mercadoLivreBuyerIds.optional(),
  })
  .strict();

export const companyContactSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    phones: z.array(z.string()),
    email: z.string().nullable(),
    document: z.string().nullable(),
    custom: z.record(z.string(), z.string()),
    optOutVoice: z.boolean(),
    optOutWhatsapp: z.boolean(),
    mercadoLivreBuyerIds: z.array(z.string()),
    importId: z.uuid().nullable().describe('The import that created it, if any'),
    line: z.number().int().nullable().describe('Line of the imported file'),
    createdAt: z.string(),
    updatedAt: z.string(),
    links: z.object({ self: z.string() }),
  })
  .meta({ id: 'CompanyContact' });

export const companyContactIdParams = z.object({ id: z.uuid() });

export function companyContactToApi(row: CompanyContact) {
  return {
    id: row.id,
    name: row.name,
    phones: row.phones,
    email: row.email,
    document: row.document,
    custom: row.custom,
    optOutVoice: row.opt_out_voice,
    optOutWhatsapp: row.opt_out_whatsapp,
    mercadoLivreBuyerIds: row.ml_buyer_ids,
    importId: row.import_id,
    line: row.line_no,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    links: { self: `/v1/company-contacts/${row.id}` },
  };
}
