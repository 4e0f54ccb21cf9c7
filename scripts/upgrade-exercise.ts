// `npm run upgrade-exercise -- <git ref>`: starts a workflow of every kind on <ref>'s own worker,
// stops that worker mid-run (as a deployment does), finishes them on the current code's worker, and
// writes their histories to test/replay/histories/upgrade-from-<sha>/ (replayed by `npm test`).
// Run it before deploying a change to workflow code, with <ref> = the commit in production.
import { spawnSync } from 'node:child_process';

const ref = process.argv[2];
if (!ref) {
  console.error('usage: npm run upgrade-exercise -- <git ref of the deployed commit>');
  process.exit(2);
}
const run = spawnSync('npx', ['vitest', 'run', '-c', 'test/replay/vitest.config.ts'], { stdio: 'inherit', env: { ...process.env, UPGRADE_FROM: ref } });
process.exit(run.status ?? 1);
