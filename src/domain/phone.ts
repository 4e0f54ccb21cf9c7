/**
 * Brazilian phone numbers as the contact import accepts them (manual, "Importação de um Novo Grupo
 * de Contatos"): DDI 55 + DDD + number, landline 12 digits, mobile 13 digits with the ninth digit.
 * Pure code: safe to import from Temporal workflows.
 */

/** Federative unit (state) of a DDD. 61 also serves some Goiás towns around Brasília. */
export const DDD_STATE: Readonly<Record<string, string>> = Object.freeze({
  ...Object.fromEntries(['11', '12', '13', '14', '15', '16', '17', '18', '19'].map((d) => [d, 'SP'])),
  '21': 'RJ',
  '22': 'RJ',
  '24': 'RJ',
  '27': 'ES',
  '28': 'ES',
  '31': 'MG',
  '32': 'MG',
  '33': 'MG',
  '34': 'MG',
  '35': 'MG',
  '37': 'MG',
  '38': 'MG',
  '41': 'PR',
  '42': 'PR',
  '43': 'PR',
  '44': 'PR',
  '45': 'PR',
  '46': 'PR',
  '47': 'SC',
  '48': 'SC',
  '49': 'SC',
  '51': 'RS',
  '53': 'RS',
  '54': 'RS',
  '55': 'RS',
  '61': 'DF',
  '62': 'GO',
  '64': 'GO',
  '63': 'TO',
  '65': 'MT',
  '66': 'MT',
  '67': 'MS',
  '68': 'AC',
  '69': 'RO',
  '71': 'BA',
  '73': 'BA',
  '74': 'BA',
  '75': 'BA',
  '77': 'BA',
  '79': 'SE',
  '81': 'PE',
  '87': 'PE',
  '82': 'AL',
  '83': 'PB',
  '84': 'RN',
  '85': 'CE',
  '88': 'CE',
  '86': 'PI',
  '89': 'PI',
  '91': 'PA',
  '93': 'PA',
  '94': 'PA',
  '92': 'AM',
  '97': 'AM',
  '95': 'RR',
  '96': 'AP',
  '98': 'MA',
  '99': 'MA',
});

export type PhoneType = 'mobile' | 'landline';
export type PhoneProblemCode = 'NON_DIGITS' | 'LENGTH' | 'DDI' | 'DDD' | 'NINTH_DIGIT' | 'LANDLINE_PREFIX';
export type PhoneCheck = { ok: true; phone: string; type: PhoneType; ddd: string } | { ok: false; reason: PhoneProblemCode; message: string };

export type PhoneProblem = Extract<PhoneCheck, { ok: false }>;

const formatting = /[\s+\-.()]/g;

/** One or more ASCII digits (what /^\d+$/ matches), checked without a regular expression. */
function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** DDD_STATE by number (00–99), for checking a DDD without cutting it out of the phone. */
const KNOWN_DDD = new Uint8Array(100);
for (const ddd of Object.keys(DDD_STATE)) KNOWN_DDD[Number(ddd)] = 1;

/** Removes what people type around a number: spaces, `+`, `-`, `.`, `(` and `)`. */
export function normalizePhone(raw: string): string {
  return isDigits(raw) ? raw : raw.replace(formatting, '');
}

const fail = (reason: PhoneProblemCode, message: string): PhoneProblem => ({ ok: false, reason, message });

/**
 * Checks in the order that explains the most: stray characters, then a missing or wrong DDI
 * (a local number typed without 55 is the commonest mistake), then length, DDD, and the first
 * digit of the local number (a 12-digit number starting with 6–9 is a mobile without its 9).
 */
export function validateBrazilPhone(raw: string): PhoneCheck {
  const checked = checkBrazilPhone(raw);
  if (typeof checked !== 'string') return checked;
  return { ok: true, phone: checked, type: checked.length === 13 ? 'mobile' : 'landline', ddd: checked.slice(2, 4) };
}

/**
 * validateBrazilPhone for the import's million rows: the normalised phone when it is valid (no
 * object for it), else the problem.
 */
export function checkBrazilPhone(raw: string): string | PhoneProblem {
  const phone = normalizePhone(raw);
  if (phone === '') return fail('LENGTH', 'Telefone vazio.');
  if (!isDigits(phone)) {
    // Excel shows long numbers as 5,54899E+12 and may save them that way: the digits are lost.
    const hint = /e\+?\d+$/i.test(phone) ? ' O Excel salvou o número em notação científica: formate a coluna como texto.' : '';
    return fail('NON_DIGITS', `O telefone tem caracteres que não são números: "${raw.trim()}".${hint}`);
  }
  const hasDdi = phone.charCodeAt(0) === 53 && phone.charCodeAt(1) === 53; // 55
  if (!hasDdi && phone.length >= 10 && phone.length <= 13) {
    return fail('DDI', `O telefone deve começar com o DDI 55 do Brasil (ex.: 5548998288774); veio "${phone}".`);
  }
  if (phone.length !== 12 && phone.length !== 13) {
    return fail('LENGTH', `O telefone tem ${phone.length} dígitos; fixo tem 12 (55 + DDD + 8) e celular 13 (55 + DDD + 9 + 8).`);
  }
  if (KNOWN_DDD[(phone.charCodeAt(2) - 48) * 10 + phone.charCodeAt(3) - 48] === 0) return fail('DDD', `O DDD ${phone.slice(2, 4)} não existe no Brasil.`);
  const first = phone.charCodeAt(4) - 48;
  if (phone.length === 13) {
    if (first !== 9) {
      return fail('NINTH_DIGIT', 'Celular com 13 dígitos deve ter o 9 na 5ª posição (55 + DDD + 9 + 8 dígitos).');
    }
    return phone;
  }
  if (first >= 2 && first <= 5) return phone;
  if (first >= 6) {
    return fail('NINTH_DIGIT', 'Parece um celular sem o nono dígito: celular tem 13 dígitos (55 + DDD + 9 + 8).');
  }
  return fail('LANDLINE_PREFIX', 'Telefone fixo deve começar com 2, 3, 4 ou 5 depois do DDD.');
}

/**
 * checkBrazilPhone's answer for a cell of digits only, read from its bytes (`b[start, end)`): true
 * when that phone is valid as it is. For the import's rows that need no text at all.
 */
export function isValidBrazilPhoneBytes(b: Uint8Array, start: number, end: number): boolean {
  const length = end - start;
  if ((length !== 12 && length !== 13) || b[start] !== 53 || b[start + 1] !== 53) return false;
  for (let i = start + 2; i < end; i++) if (b[i] < 48 || b[i] > 57) return false;
  if (KNOWN_DDD[(b[start + 2] - 48) * 10 + b[start + 3] - 48] === 0) return false;
  const first = b[start + 4] - 48;
  return length === 13 ? first === 9 : first >= 2 && first <= 5;
}

/** The state (UF) of a normalized Brazilian number, or undefined when its DDD is unknown. */
export function stateOfPhone(phone: string): string | undefined {
  const digits = normalizePhone(phone);
  const ddd = digits.startsWith('55') ? digits.slice(2, 4) : undefined;
  return ddd === undefined ? undefined : DDD_STATE[ddd];
}

/**
 * The 12-digit form of a 13-digit mobile (55 + DDD + 8 digits): WhatsApp may answer with a
 * `wa_id` in this form, so webhooks must match either. Other numbers come back unchanged.
 */
export function withoutNinthDigit(phone: string): string {
  return phone.length === 13 && phone.startsWith('55') && phone[4] === '9' ? phone.slice(0, 4) + phone.slice(5) : phone;
}

/**
 * The digits a national number stands for with the DDI 55 in front, when `phone` (normalised) is
 * written as Brazilians dial it at home: DDD + number (10/11 digits), with the trunk 0
 * (`011 98765-4321`) or 0 + a carrier code (`0 21 11 98765-4321`). Undefined for any other length.
 */
function internationalOf(phone: string): string | undefined {
  // No DDD starts with 0, so a leading 0 is always the trunk prefix; 00 is the international one.
  if (phone.charCodeAt(0) !== 48) return phone.length === 10 || phone.length === 11 ? `55${phone}` : undefined;
  if (phone.charCodeAt(1) === 48) return undefined;
  if (phone.length === 11 || phone.length === 12) return `55${phone.slice(1)}`;
  if (phone.length === 13 || phone.length === 14) return `55${phone.slice(3)}`;
  return undefined;
}

/**
 * checkBrazilPhone for a cell of a contact file, as a supervisor's spreadsheet holds it: a number
 * without the DDI 55 (`(11) 98765-4321`, `011 98765-4321`) is read as a Brazilian national number
 * and stored with 55, so the file is imported without hand fixes. When it is still not a valid
 * number, the national reading's problem is the one that explains it.
 */
export function checkContactFilePhone(raw: string): string | PhoneProblem {
  const direct = checkBrazilPhone(raw);
  if (typeof direct === 'string' || direct.reason === 'NON_DIGITS') return direct;
  const national = internationalOf(normalizePhone(raw));
  return national === undefined ? direct : checkBrazilPhone(national);
}
