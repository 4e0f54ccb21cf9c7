// Bundles the workflow code into one file: `tsx scripts/bundle-workflows.ts <out.js>`.
// The worker runs this in a short-lived child process so webpack's memory never stays in the
// worker's heap (see src/worker.ts).
import { writeFileSync } from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowsPath } from '../src/workflows/path';

const out = process.argv[2];
if (!out) {
  console.error('usage: tsx scripts/bundle-workflows.ts <out.js>');
  process.exit(2);
}
const silent = () => undefined;
const { code } = await bundleWorkflowCode({
  workflowsPath,
  logger: { info: silent, debug: silent, trace: silent, log: silent, warn: console.warn, error: console.error },
});
writeFileSync(out, code);
