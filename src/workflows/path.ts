import { fileURLToPath } from 'node:url';

/** Where the worker finds the workflow code to bundle (kept out of index.ts: workflows must not import node:url). */
export const workflowsPath = fileURLToPath(new URL('./index.ts', import.meta.url));
