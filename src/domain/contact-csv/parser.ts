/**
 * Streams a contact file into its header and validated rows, with bounded memory whatever the
 * file size. Bad content never throws: a file problem ends the stream with a `file-problem`
 * event, a bad row is a rejected `row` event. (A failing input stream still throws: that is I/O,
 * not content.) Uses Node's Buffer: keep out of workflow code.
 */
import { Buffer } from 'node:buffer';
import type { Readable } from 'node:stream';
import { chunkDecoder, detectEncoding, SNIFF_BYTES, type TextEncoding } from './encoding';
import { checkFileStart } from './file-check';
import { fileProblem, type FileProblem } from './file-problem';
import { mapHeader, type HeaderMap } from './header';
import { validateRow, type PhonePolicy, type RowResult } from './row';
import { RecordSplitter, type SplitRecord } from './splitter';

export interface ParseOptions {
  phonePolicy: PhonePolicy;
  /** Longest record accepted, in decoded characters (≈ bytes for Latin text). Default 64 KiB. */
  maxLineBytes?: number;
  /** Skip detection from the first bytes. */
  encoding?: TextEncoding;
}

export type ParseEvent =
  | { kind: 'header'; header: HeaderMap; encoding: TextEncoding; line: number }
  /** `line`: 1-based physical line where the record starts; `raw`: its text (without the line break). */
  | { kind: 'row'; line: number; raw: string; result: RowResult }
  | { kind: 'file-problem'; problem: FileProblem };

export const DEFAULT_MAX_LINE = 64 * 1024;

type Chunk = Uint8Array | string;
/** A stream, any (async) iterable of chunks, or a whole file in one buffer. */
export type ByteSource = Readable | AsyncIterable<Chunk> | Iterable<Chunk> | Uint8Array;

function iteratorOf(input: ByteSource): AsyncIterator<Chunk> {
  if (input instanceof Uint8Array) return iteratorOf([input]);
  if (Symbol.asyncIterator in input) return (input as AsyncIterable<Chunk>)[Symbol.asyncIterator]();
  const sync = (input as Iterable<Chunk>)[Symbol.iterator]();
  return { next: async () => sync.next(), return: async () => sync.return?.() ?? { done: true, value: undefined } };
}

const toBytes = (chunk: Chunk): Uint8Array =>
  typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;

/** Reads up to SNIFF_BYTES from the source; `done` when that was the whole file. */
async function readStart(source: AsyncIterator<Chunk>): Promise<{ start: Buffer; done: boolean }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < SNIFF_BYTES) {
    const next = await source.next();
    if (next.done) return { start: Buffer.concat(chunks), done: true };
    const bytes = toBytes(next.value);
    chunks.push(bytes);
    size += bytes.length;
  }
  return { start: Buffer.concat(chunks), done: false };
}

export async function* parseContactCsv(input: ByteSource, opts: ParseOptions): AsyncGenerator<ParseEvent, void, undefined> {
  for await (const batch of parseContactCsvBatches(input, opts)) yield* batch;
}

/**
 * The same events in arrays (one per incoming chunk): an async step per chunk rather than per
 * row, for callers that write in batches anyway.
 */
export async function* parseContactCsvBatches(
  input: ByteSource,
  opts: ParseOptions,
): AsyncGenerator<ParseEvent[], void, undefined> {
  const source = iteratorOf(input);
  try {
    const { start, done } = await readStart(source);
    const problem = checkFileStart(start, { complete: done, encoding: opts.encoding });
    if (problem !== undefined) {
      yield [{ kind: 'file-problem', problem }];
      return;
    }
    const encoding = opts.encoding ?? detectEncoding(start);
    const decoder = chunkDecoder(encoding);
    const rows = new RowStage(opts, encoding);
    const first = rows.take(decoder.write(start));
    if (first.length > 0) yield first;
    while (!done) {
      const next = await source.next();
      if (next.done) break;
      const events = rows.take(decoder.write(toBytes(next.value)));
      if (events.length > 0) yield events;
    }
    const last = rows.take(decoder.end(), true);
    if (last.length > 0) yield last;
  } finally {
    await source.return?.();
  }
}

/** Records → events: the first record is the header, every later one a validated row. */
class RowStage {
  private readonly splitter: RecordSplitter;
  private readonly records: SplitRecord[] = [];
  private header: HeaderMap | undefined;
  private stopped = false;

  constructor(
    private readonly opts: ParseOptions,
    private readonly encoding: TextEncoding,
  ) {
    this.splitter = new RecordSplitter(opts.maxLineBytes ?? DEFAULT_MAX_LINE);
  }

  take(text: string, final = false): ParseEvent[] {
    const records = this.records;
    records.length = 0;
    if (this.stopped) return [];
    if (text.length > 0) this.splitter.push(text, records);
    if (final) this.splitter.end(records);
    const events: ParseEvent[] = [];
    for (const record of records) {
      if (this.header === undefined) {
        const event = this.headerEvent(record);
        events.push(event);
        if (event.kind === 'file-problem') {
          this.stopped = true;
          break;
        }
        continue;
      }
      const result: RowResult =
        record.cells === undefined
          ? { ok: false, reasons: [record.error] }
          : validateRow(record.cells, this.header, this.opts);
      events.push({ kind: 'row', line: record.line, raw: record.raw, result });
    }
    return events;
  }

  /** checkFileStart has seen the header already; this covers a caller-forced encoding or limit. */
  private headerEvent(record: SplitRecord): ParseEvent {
    if (record.cells === undefined) {
      return { kind: 'file-problem', problem: fileProblem('HEADER_MISSING', `O cabeçalho não pode ser lido: ${record.error.message}`) };
    }
    const mapped = mapHeader(record.cells);
    if (!mapped.ok) return { kind: 'file-problem', problem: mapped.problem };
    this.header = mapped.header;
    return { kind: 'header', header: mapped.header, encoding: this.encoding, line: record.line };
  }
}
