import { execFileSync, execSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Checkout } from '../helpers/jobs';

/**
 * Another commit's code, unpacked under `.upgrade/<sha>/` (git-ignored; inside the repository so
 * its imports find this node_modules) with its own workflow bundle: the upgrade exercise runs its
 * own worker (test/fixtures/worker-main.ts of that commit), activities included, as a deployment
 * still on that commit would.
 */
export function prepareCheckout(ref: string): Checkout & { hasVocabulary: boolean } {
  const root = resolve('.');
  const sha = execFileSync('git', ['rev-parse', '--short=12', `${ref}^{commit}`], { encoding: 'utf8' }).trim();
  const dir = join(root, '.upgrade', sha);
  const bundlePath = join(dir, 'workflow-bundle.js');
  if (!existsSync(bundlePath)) {
    mkdirSync(dir, { recursive: true });
    execSync(`git archive ${sha} src scripts test/fixtures tsconfig.json package.json | tar -x -C ${JSON.stringify(dir)}`, { stdio: 'inherit' });
    execFileSync(process.execPath, ['--import', 'tsx', join(dir, 'scripts/bundle-workflows.ts'), bundlePath], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  return { ref: sha, entry: join(dir, 'test/fixtures/worker-main.ts'), bundlePath, hasVocabulary: existsSync(join(dir, 'src/workflows/operations.ts')) };
}
