import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Bundles a TypeScript entry point (our code only; packages stay external) into `build/`, so its
 * process runs on plain node: tsx would transpile every module at start and keep its loader thread
 * and caches (about 60 MB) for the process's whole life. `build/` sits one level under the root, as
 * `src/` does, so `import.meta.url`-relative paths in the entry (../scripts/…) still resolve.
 */
export async function compileEntry(entry: string): Promise<string> {
  const outfile = join(projectRoot, 'build', basename(entry).replace(/\.ts$/, '.mjs'));
  await build({
    entryPoints: [join(projectRoot, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  return outfile;
}
