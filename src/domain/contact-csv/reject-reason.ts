/**
 * Why a row of a contact file is not imported. A rejected row keeps every reason that applies, so
 * the supervisor fixes the line once. Codes are stable; `message` is plain pt-BR.
 */
import type { PhoneProblemCode } from '../phone';

export type RejectReason =
  | { code: 'NAME_MISSING'; message: string }
  | { code: 'NO_PHONE'; message: string }
  | { code: 'PHONE_INVALID'; column: string; value: string; why: PhoneProblemCode; message: string }
  | { code: 'COLUMN_COUNT'; expected: number; got: number; message: string }
  | { code: 'FIELD_TOO_LONG'; column: string; max: number; length: number; message: string }
  | { code: 'MALFORMED_ROW'; message: string }
  | { code: 'LINE_TOO_LONG'; max: number; message: string }
  /** Decided later, against the group's phones in the database; defined here with the others. */
  | { code: 'DUPLICATE'; phones: string[]; message: string };

export type RejectCode = RejectReason['code'];

export const nameMissing = (): RejectReason => ({ code: 'NAME_MISSING', message: 'O nome é obrigatório e está vazio.' });

export const noPhone = (): RejectReason => ({
  code: 'NO_PHONE',
  message: 'Nenhum telefone preenchido; o contato precisa de ao menos um telefone válido.',
});

export const phoneInvalid = (column: string, value: string, why: PhoneProblemCode, detail: string): RejectReason => ({
  code: 'PHONE_INVALID',
  column,
  value,
  why,
  message: `Coluna "${column}": ${detail}`,
});

export const columnCount = (expected: number, got: number): RejectReason => ({
  code: 'COLUMN_COUNT',
  expected,
  got,
  message: `A linha tem ${got} coluna(s), mas o cabeçalho tem ${expected}. Confira os ";" da linha.`,
});

export const fieldTooLong = (column: string, max: number, length: number): RejectReason => ({
  code: 'FIELD_TOO_LONG',
  column,
  max,
  length,
  message: `Coluna "${column}" tem ${length} caracteres; o máximo é ${max}.`,
});

export const malformedRow = (detail: string): RejectReason => ({ code: 'MALFORMED_ROW', message: detail });

export const lineTooLong = (max: number): RejectReason => ({
  code: 'LINE_TOO_LONG',
  max,
  message: `A linha passa de ${max} caracteres e foi ignorada.`,
});

/** `phones`: the phones already taken. A company contact is a duplicate as soon as one is. */
export const duplicate = (phones: string[], target: 'contact_group' | 'company_contacts' = 'contact_group'): RejectReason => ({
  code: 'DUPLICATE',
  phones,
  message:
    target === 'contact_group'
      ? 'Todos os telefones deste contato já estão no grupo.'
      : `Telefone(s) já usado(s) por outro contato Omni: ${phones.join(', ')}.`,
});
