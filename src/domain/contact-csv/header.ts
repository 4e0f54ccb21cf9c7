/**
 * The header line of a contact file: which column feeds which contact field. Names are matched
 * ignoring case, accents, surrounding spaces and separators inside the name, so `Telefone 1`,
 * `TELEFONE1`, `telefone_1` and `phone1` all mean phone 1. Any other column is a custom field of the
 * contact (later a template variable). Pure code.
 */
import { csvLine, CSV_BOM } from '../csv-out';
import { fileProblem, type FileProblem } from './file-problem';

export const MAX_PHONES = 10;

export type ColumnTarget =
  | { field: 'name' }
  | { field: 'phone'; slot: number }
  | { field: 'email' }
  | { field: 'document' }
  | { field: 'custom'; key: string }
  /** A column with an empty header cell (Excel leaves them after formatted empty columns). */
  | { field: 'ignored' };

export interface HeaderColumn {
  /** 0-based position in the record. */
  index: number;
  /** The header text as written, trimmed. */
  label: string;
  /** Normalized name: lower case, no accents, `_` between words (`Primeiro Nome` → `primeiro_nome`). */
  key: string;
  target: ColumnTarget;
}

export interface HeaderMap {
  /** Number of cells every record must have. */
  width: number;
  columns: HeaderColumn[];
  nameColumn: HeaderColumn;
  /** Phone columns ordered by slot (telefone1 first). */
  phoneColumns: HeaderColumn[];
  emailColumn?: HeaderColumn;
  documentColumn?: HeaderColumn;
  customColumns: HeaderColumn[];
}

export const TEMPLATE_HEADER: readonly string[] = Object.freeze([
  'nome',
  ...Array.from({ length: MAX_PHONES }, (_, i) => `telefone${i + 1}`),
  'email',
  'documento',
]);

const TEMPLATE_EXAMPLE = [
  'Maria da Conceição',
  '554734322422',
  '5548998288774',
  ...Array.from({ length: MAX_PHONES - 2 }, () => ''),
  'maria.conceicao@exemplo.com.br',
  '529.982.247-25',
];

/** The downloadable model file: `;`, UTF-8 with BOM (so Excel shows accents), CRLF. */
export function templateCsv(): string {
  return CSV_BOM + csvLine(TEMPLATE_HEADER) + csvLine(TEMPLATE_EXAMPLE);
}

/** `  Primeiro Nome ` → `primeiro_nome`; `Conceição` → `conceicao`. */
export function normalizeHeaderKey(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

const KNOWN: ReadonlyMap<string, ColumnTarget> = new Map<string, ColumnTarget>([
  ['nome', { field: 'name' }],
  ['nomecompleto', { field: 'name' }],
  ['name', { field: 'name' }],
  ['telefone', { field: 'phone', slot: 0 }],
  ['phone', { field: 'phone', slot: 0 }],
  ['email', { field: 'email' }],
  ['documento', { field: 'document' }],
  // What Brazilian spreadsheets call the document column.
  ['cpf', { field: 'document' }],
  ['cnpj', { field: 'document' }],
  ['cpfcnpj', { field: 'document' }],
  ['document', { field: 'document' }],
  ...Array.from({ length: MAX_PHONES }, (_, i): [string, ColumnTarget][] => [
    [`telefone${i + 1}`, { field: 'phone', slot: i }],
    [`phone${i + 1}`, { field: 'phone', slot: i }],
  ]).flat(),
]);

/** The contact field a header cell names, if it names one (`e-mail`, `Telefone 1`, `NAME`…). */
export function knownTarget(cell: string): ColumnTarget | undefined {
  return KNOWN.get(normalizeHeaderKey(cell).replace(/_/g, ''));
}

function targetOf(label: string, key: string): ColumnTarget {
  if (label === '') return { field: 'ignored' };
  return knownTarget(label) ?? { field: 'custom', key: key === '' ? label : key };
}

/** Two columns clash when they feed the same field (or custom fields with the same key). */
function identity(target: ColumnTarget): string | undefined {
  switch (target.field) {
    case 'ignored':
      return undefined;
    case 'phone':
      return `phone:${target.slot}`;
    case 'custom':
      return `custom:${target.key}`;
    default:
      return target.field;
  }
}

export type HeaderResult = { ok: true; header: HeaderMap } | { ok: false; problem: FileProblem };

export function mapHeader(cells: readonly string[]): HeaderResult {
  const columns: HeaderColumn[] = cells.map((cell, index) => {
    const label = cell.trim();
    const key = normalizeHeaderKey(label);
    return { index, label, key, target: targetOf(label, key) };
  });

  const byIdentity = new Map<string, HeaderColumn[]>();
  for (const column of columns) {
    const id = identity(column.target);
    if (id !== undefined) byIdentity.set(id, [...(byIdentity.get(id) ?? []), column]);
  }
  const clashes = [...byIdentity.values()].filter((group) => group.length > 1);
  if (clashes.length > 0) {
    const labels = clashes.flat().map((c) => c.label);
    const list = clashes.map((group) => group.map((c) => `"${c.label}"`).join(' e ')).join('; ');
    return {
      ok: false,
      problem: fileProblem('HEADER_DUPLICATE_COLUMN', `O cabeçalho tem colunas repetidas: ${list}. Deixe só uma de cada.`, labels),
    };
  }

  const nameColumn = columns.find((c) => c.target.field === 'name');
  if (nameColumn === undefined) {
    return {
      ok: false,
      problem: fileProblem(
        'NAME_COLUMN_MISSING',
        'O cabeçalho não tem a coluna "nome", que é obrigatória. Use o modelo: nome;telefone1;…;telefone10;email;documento.',
      ),
    };
  }
  const slotOf = (c: HeaderColumn) => (c.target.field === 'phone' ? c.target.slot : 0);
  const phoneColumns = columns.filter((c) => c.target.field === 'phone').sort((a, b) => slotOf(a) - slotOf(b));
  if (phoneColumns.length === 0) {
    return {
      ok: false,
      problem: fileProblem(
        'PHONE_COLUMN_MISSING',
        'O cabeçalho não tem nenhuma coluna de telefone (telefone1 … telefone10); cada contato precisa de um telefone válido.',
      ),
    };
  }
  return {
    ok: true,
    header: {
      width: columns.length,
      columns,
      nameColumn,
      phoneColumns,
      emailColumn: columns.find((c) => c.target.field === 'email'),
      documentColumn: columns.find((c) => c.target.field === 'document'),
      customColumns: columns.filter((c) => c.target.field === 'custom'),
    },
  };
}
