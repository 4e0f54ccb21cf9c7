/**
 * Problems with a contact file as a whole, judged from its first bytes before any import starts
 * (the upload endpoint answers them at once; the parser checks them again itself).
 */
import { chunkDecoder, detectEncoding, SNIFF_BYTES, type TextEncoding } from './encoding';
import { fileProblem, type FileProblem } from './file-problem';
import { knownTarget, mapHeader } from './header';
import { RecordSplitter, type SplitRecord } from './splitter';

export interface FileStartOptions {
  /** `firstBytes` is the whole file (so "no data rows" can be told). */
  complete?: boolean;
  /** Skip detection (when the caller knows better). */
  encoding?: TextEncoding;
}

const SAVE_AS_CSV = 'No Excel, use "Salvar como" → "CSV (separado por vírgulas)" e envie esse arquivo.';

/** Formats people upload by mistake, by their first bytes. */
const MAGIC: { bytes: number[]; what: string }[] = [
  { bytes: [0x50, 0x4b, 0x03, 0x04], what: `Parece uma planilha do Excel (.xlsx) ou outro arquivo compactado, não um CSV. ${SAVE_AS_CSV}` },
  { bytes: [0xd0, 0xcf, 0x11, 0xe0], what: `Parece uma planilha do Excel antigo (.xls), não um CSV. ${SAVE_AS_CSV}` },
  { bytes: [0x25, 0x50, 0x44, 0x46], what: 'Parece um PDF, não um CSV.' },
  { bytes: [0x89, 0x50, 0x4e, 0x47], what: 'Parece uma imagem PNG, não um CSV.' },
  { bytes: [0xff, 0xd8, 0xff], what: 'Parece uma imagem JPEG, não um CSV.' },
  { bytes: [0x47, 0x49, 0x46, 0x38], what: 'Parece uma imagem GIF, não um CSV.' },
  { bytes: [0x1f, 0x8b], what: 'Parece um arquivo compactado (.gz), não um CSV.' },
  { bytes: [0x52, 0x61, 0x72, 0x21], what: 'Parece um arquivo compactado (.rar), não um CSV.' },
  { bytes: [0x37, 0x7a, 0xbc, 0xaf], what: 'Parece um arquivo compactado (.7z), não um CSV.' },
];

/** Text has NUL bytes only in UTF-16, and control bytes (other than tab and line breaks) rarely. */
function binaryProblem(bytes: Uint8Array, encoding: TextEncoding): FileProblem | undefined {
  const magic = MAGIC.find((m) => m.bytes.every((b, i) => bytes[i] === b));
  if (magic !== undefined) return fileProblem('FILE_BINARY', magic.what);
  if (encoding === 'utf16le' || encoding === 'utf16be') return undefined;
  let control = 0;
  for (const b of bytes) {
    if (b === 0) return fileProblem('FILE_BINARY', 'O arquivo não é texto (tem bytes nulos). Envie um CSV separado por ";".');
    if ((b < 0x20 && b !== 9 && b !== 10 && b !== 13 && b !== 12) || b === 0x7f) control++;
  }
  return control > bytes.length / 10
    ? fileProblem('FILE_BINARY', 'O arquivo não parece texto (muitos caracteres de controle). Envie um CSV separado por ";".')
    : undefined;
}

/**
 * A header without `;` between cells (one cell, or unreadable as `"nome","telefone1"` is) that
 * splits into known column names on `,` or tab.
 */
function separatorProblem(first: SplitRecord): FileProblem | undefined {
  if (first.cells !== undefined && first.cells.length > 1) return undefined;
  for (const [sep, name] of [
    [',', 'vírgula (,)'],
    ['\t', 'tabulação'],
  ] as const) {
    const cells = first.raw.split(sep).map((c) => c.trim().replace(/^"|"$/g, ''));
    if (cells.length > 1 && cells.some((c) => knownTarget(c) !== undefined)) {
      return fileProblem('WRONG_SEPARATOR', `O cabeçalho está separado por ${name}; use ";" (ponto e vírgula) entre as colunas, como no modelo.`, cells);
    }
  }
  return undefined;
}

/** The first problem of the file, or undefined when an import may start. */
export function checkFileStart(firstBytes: Uint8Array, opts: FileStartOptions = {}): FileProblem | undefined {
  const bytes = firstBytes.subarray(0, SNIFF_BYTES);
  const complete = (opts.complete ?? false) && firstBytes.length <= SNIFF_BYTES;
  const encoding = opts.encoding ?? detectEncoding(bytes);
  const decoder = chunkDecoder(encoding);
  const text = decoder.write(bytes) + (complete ? decoder.end() : '');
  if (text.length === 0) return fileProblem('FILE_EMPTY', 'O arquivo está vazio.');
  const binary = binaryProblem(bytes, encoding);
  if (binary !== undefined) return binary;

  const records: SplitRecord[] = [];
  const splitter = new RecordSplitter(SNIFF_BYTES);
  splitter.push(text, records);
  if (complete) splitter.end(records);
  const [header, ...rows] = records;
  if (header === undefined) {
    return complete
      ? fileProblem('HEADER_MISSING', 'O arquivo só tem linhas em branco: falta o cabeçalho (nome;telefone1;…).')
      : fileProblem('HEADER_TOO_LONG', 'A primeira linha (cabeçalho) é longa demais; confira se o arquivo é um CSV.');
  }
  const separator = separatorProblem(header);
  if (separator !== undefined) return separator;
  if (header.cells === undefined) {
    return fileProblem('HEADER_MISSING', `O cabeçalho (linha ${header.line}) não pode ser lido: ${header.error.message}`);
  }
  const mapped = mapHeader(header.cells);
  if (!mapped.ok) return mapped.problem;
  if (complete && rows.length === 0) {
    return fileProblem('NO_ROWS', 'O arquivo só tem o cabeçalho: não há contatos para importar.');
  }
  return undefined;
}
