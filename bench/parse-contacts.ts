/**
 * How fast the contact CSV parser reads and validates a big file, on one core.
 *   npx tsx bench/parse-contacts.ts [rows=1000000] [utf8|windows-1252]
 * Writes the file to a temp folder (two phones per row, accents, ~10% invalid rows), then streams
 * it from disk through parseImportRows (what the import activity runs) and prints rows/s and peak RSS (which must not grow with
 * the file).
 */
import { Buffer } from 'node:buffer';
import { createReadStream, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { parseImportRows } from '../src/activities/imports/rows';

const rows = Number(process.argv[2] ?? 1_000_000);
const encoding = process.argv[3] === 'windows-1252' ? 'windows-1252' : 'utf8';

const names = ['João da Silva', 'Maria da Conceição', 'José Araújo', 'Ana Luíza Gonçalves', 'Antônio Pereira'];
const ddds = ['11', '21', '47', '48', '85', '67', '27', '99'];

function line(i: number): string {
  const ddd = ddds[i % ddds.length];
  const n = String(10_000_000 + ((i * 7919) % 89_999_999));
  let mobile = `55${ddd}9${n}`;
  let landline = `55${ddd}3${n.slice(1)}`;
  let name = `${names[i % names.length]} ${i}`;
  switch (i % 50) {
    case 1:
      mobile = `55${ddd}8${n}`;
      break; // ninth digit
    case 2:
      landline = `5520${n}`;
      break; // DDD
    case 3:
      name = '';
      break;
    case 4:
      mobile = `(${ddd}) 9${n.slice(0, 4)}-${n.slice(4)}`;
      break; // no DDI
    case 5:
      return `${name};${mobile}`; // column count
  }
  if (i % 10 === 6) mobile = `+55 (${ddd}) 9${n.slice(0, 4)}-${n.slice(4)}`; // formatted, valid
  return `${name};${mobile};${landline};pessoa${i}@exemplo.com.br;${String(i).padStart(11, '0')};São José`;
}

function makeFile(): Buffer {
  const parts: Buffer[] = [Buffer.from('nome;telefone1;telefone2;email;documento;cidade\r\n')];
  let text = '';
  for (let i = 0; i < rows; i++) {
    text += line(i) + '\r\n';
    if (text.length > 1 << 20) {
      parts.push(encoding === 'utf8' ? Buffer.from(text) : iconv.encode(text, 'windows-1252'));
      text = '';
    }
  }
  parts.push(encoding === 'utf8' ? Buffer.from(text) : iconv.encode(text, 'windows-1252'));
  return Buffer.concat(parts);
}

const path = join(tmpdir(), `contacts-bench-${process.pid}.csv`);
const size = (() => {
  const file = makeFile();
  writeFileSync(path, file);
  return file.length;
})();
let peak = 0;
const started = performance.now();
let ok = 0;
let rejected = 0;
for await (const batch of parseImportRows(createReadStream(path, { highWaterMark: 1 << 20 }), { phonePolicy: 'reject_row' }))
  for (const event of batch) {
    if (event.kind === 'row') {
      if (event.result.ok) ok++;
      else rejected++;
      if ((ok + rejected) % 10_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    } else if (event.kind === 'file-problem') throw new Error(event.problem.detail);
  }
const seconds = (performance.now() - started) / 1000;
rmSync(path);
console.log(
  `${encoding}: ${(size / 1e6).toFixed(1)} MB, ${ok + rejected} rows (${ok} ok, ${rejected} rejected) in ${seconds.toFixed(2)} s` +
    ` = ${Math.round((ok + rejected) / seconds).toLocaleString('en')} rows/s, ${(size / 1e6 / seconds).toFixed(0)} MB/s;` +
    ` peak RSS ${(peak / 1e6).toFixed(0)} MB`,
);
