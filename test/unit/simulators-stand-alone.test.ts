import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { expect, it } from 'vitest';

// The simulators follow the providers' published contracts on their own: importing the clients'
// code or types would let one misreading pass on both sides (test/unit/contracts/ holds both to
// the documentation instead).

const SIMULATORS = resolve('src/simulators');
const INTEGRATIONS = resolve('src/integrations');
const specifier = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;

const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : /\.[cm]?[jt]s$/.test(e.name) ? [join(dir, e.name)] : [],
  );

/** `file: specifier` for each import (type-only too) that leads into src/integrations. */
function importsOfIntegrations(file: string, source: string): string[] {
  return Array.from(source.matchAll(specifier), (m) => m[1])
    .filter((spec) => spec.startsWith('.') && !relative(INTEGRATIONS, resolve(dirname(file), spec)).startsWith('..'))
    .map((spec) => `${relative('.', file)}: ${spec}`);
}

it('no simulator file imports from src/integrations (types included)', () => {
  const found = files(SIMULATORS).flatMap((file) => importsOfIntegrations(file, readFileSync(file, 'utf8')));
  expect(found).toEqual([]);
});

it('the check sees every form of such an import', () => {
  const file = join(SIMULATORS, 'ari', 'x.ts');
  const source = [
    "import type { Channel } from '../../integrations/ari/types';",
    "import { signBody } from '../../integrations/whatsapp/webhook'",
    "export { x } from '../../integrations/ari';",
    "const m = await import('../../integrations/ari/client');",
    "import '../../integrations/ari/index';",
    "import { ok } from './contract';",
  ].join('\n');
  expect(importsOfIntegrations(file, source)).toHaveLength(5);
});
