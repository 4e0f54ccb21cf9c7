import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/**
 * A realistic contact file: `;`, UTF-8, accents, two phones per row, custom columns, and about 10%
 * invalid rows of the kinds a plain COPY can still load (missing name, no phone, invalid phones of
 * every kind, duplicates). Rows with a wrong column count or broken quotes are left out on
 * purpose: COPY would refuse the whole file, and the tests cover those rows.
 */
const firstNames = ['João', 'Maria', 'José', 'Ana', 'Conceição', 'Antônio', 'Luíza', 'Sebastião', 'Inês', 'Fábio', 'Márcia', 'Cláudio'];
const lastNames = ['da Silva', 'Gonçalves', 'Araújo', 'Simões', 'Magalhães', 'Conceição', 'Brandão', 'Assunção', 'Ribeiro', 'Loureiro'];
const cities = ['São Paulo', 'Florianópolis', 'Niterói', 'Maceió', 'Goiânia', 'Ribeirão Preto', 'Jundiaí', 'Curitiba'];
const ddds = [11, 21, 31, 41, 47, 48, 51, 61, 71, 81, 85, 91];

const mobile = (i: number) => `55${ddds[i % ddds.length]}9${String(10_000_000 + ((i * 7919) % 89_999_999)).padStart(8, '0')}`;
const landline = (i: number) => `55${ddds[(i + 3) % ddds.length]}3${String(1_000_000 + ((i * 104_729) % 8_999_999)).padStart(7, '0')}`;
const invalidPhones = ['5548898288774', '5520998288774', '554734322', '4834322422', '554764322422', '55479982A8774', '+55 (48) 9982-877'];

export async function generateContactsCsv(path: string, rows: number): Promise<{ bytes: number }> {
  const out = createWriteStream(path);
  let bytes = 0;
  const write = async (text: string) => {
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('nome;telefone1;telefone2;email;documento;cidade;plano\n');
  let buffer = '';
  for (let i = 1; i <= rows; i++) {
    const name = `${firstNames[i % firstNames.length]} ${lastNames[(i >> 3) % lastNames.length]} ${i}`;
    const city = cities[i % cities.length];
    let line: string;
    switch (i % 50) {
      case 0:
        line = `;${mobile(i)};;;;${city};ouro`;
        break; // NAME_MISSING
      case 1:
        line = `${name};;;sem.fone@x.com;;${city};prata`;
        break; // NO_PHONE
      case 2:
      case 3:
      case 4:
        line = `${name};${invalidPhones[i % invalidPhones.length]};${landline(i)};;;${city};bronze`;
        break; // PHONE_INVALID
      case 5:
        line = `${name};${mobile(i - 6)};;;;${city};ouro`;
        break; // DUPLICATE of an earlier row
      default:
        line = `${name};${mobile(i)};${landline(i)};c${i}@exemplo.com.br;${100_000_000 + i};${city};${i % 3 ? 'prata' : 'ouro'}`;
    }
    buffer += line + '\n';
    if (buffer.length > 1 << 16) {
      await write(buffer);
      buffer = '';
    }
  }
  await write(buffer);
  out.end();
  await once(out, 'finish');
  return { bytes };
}
