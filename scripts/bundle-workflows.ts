// Bundles the workflow code into one file: `tsx scripts/bundle-workflows.ts <out.js>`.
// The worker runs this in a short-lived child process so webpack's memory never stays in the
// worker's heap (see src/worker.ts).
import { writeFileSync } from 'node:fs';
import { buildWorkflowBundle } from '../src/temporal/workflow-bundle';

const out = process.argv[2];
if (!out) {
  console.error('usage: tsx scripts/bundle-workflows.ts <out.js>');
  process.exit(2);
}
writeFileSync(out, await buildWorkflowBundle());
