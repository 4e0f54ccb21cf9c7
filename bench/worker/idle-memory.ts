// The idle worker's (or, with --api, the API's) memory, as `npm start` runs it (compiled, with its flags):
//   npx tsx bench/worker/idle-memory.ts [seconds=8] [runs=2] [--api]
// Starts a Temporal dev server and the process against a fresh database (BENCH_DATABASE_URL's
// server, default the local one), waits `seconds` after it is ready, and prints its RSS and
// PSS (smaps_rollup), the largest mappings, and each V8 isolate's heap (the main thread and, in
// the worker, the workflow thread, read by a preload inside the process).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_NODE_ARGS, WORKER_NODE_ARGS } from '../../src/embedded/child-process';
import { compileEntry } from '../../src/embedded/compile-entry';
import { freePort } from '../../src/embedded/ports';
import { startTemporalDevServer } from '../../src/embedded/temporal-server';
import { freshDatabase, log, startProcess } from '../lib';

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const seconds = Number(positional[0] ?? 8);
const runs = Number(positional[1] ?? 2);
const api = process.argv.includes('--api');

// Loaded by the worker's main thread and its workflow threads alike (execArgv is inherited).
const preload = join(mkdtempSync(join(tmpdir(), 'omni-idle-')), 'heap.mjs');
writeFileSync(
  preload,
  `import v8 from 'node:v8'; import { isMainThread } from 'node:worker_threads';
setTimeout(() => { const h = v8.getHeapStatistics();
  console.log('HEAP ' + JSON.stringify({ thread: isMainThread ? 'main' : 'workflow', totalMb: h.total_physical_size / 1048576, usedMb: h.used_heap_size / 1048576 })); }, ${seconds * 1000 - 500}).unref();\n`,
);

const kb = (text: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);

async function once(run: number, dbUrl: string, temporalAddress: string, entry: string) {
  const env = {
    DATABASE_URL: dbUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_TASK_QUEUE: `idle-${run}`,
    WORKER_METRICS_PORT: String(await freePort()),
    API_PORT: String(await freePort()),
    LOG_LEVEL: 'info',
  };
  const child = api
    ? await startProcess(entry, env, 'Server listening', [...API_NODE_ARGS, '--import', preload])
    : await startProcess(entry, env, 'worker running', [...WORKER_NODE_ARGS, '--import', preload]);
  const heaps: string[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line.startsWith('HEAP ')) heaps.push(line.slice(5));
  });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const rollup = readFileSync(`/proc/${child.pid}/smaps_rollup`, 'utf8');
  const byMapping = new Map<string, number>();
  let name = '';
  for (const line of readFileSync(`/proc/${child.pid}/smaps`, 'utf8').split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping) name = mapping[1] || '[anonymous]';
    else if (line.startsWith('Rss:')) byMapping.set(name, (byMapping.get(name) ?? 0) + kb(line, 'Rss'));
  }
  child.kill('SIGKILL');
  const top = [...byMapping].sort((a, b) => b[1] - a[1]).slice(0, 4);
  const isolates = heaps.map((h) => JSON.parse(h) as { thread: string; totalMb: number; usedMb: number });
  console.log(
    `run ${run}: RSS ${(kb(rollup, 'Rss') / 1024).toFixed(0)} MB, PSS ${(kb(rollup, 'Pss') / 1024).toFixed(0)} MB (anonymous ${(kb(rollup, 'Pss_Anon') / 1024).toFixed(0)} MB)`,
  );
  console.log(`  largest mappings: ${top.map(([n, v]) => `${n.split('/').at(-1)} ${(v / 1024).toFixed(0)} MB`).join(', ')}`);
  for (const i of isolates) console.log(`  V8 heap, ${i.thread} thread: ${i.totalMb.toFixed(0)} MB (${i.usedMb.toFixed(0)} MB used)`);
}

const dbUrl = await freshDatabase('omni_bench_idle');
const temporal = await startTemporalDevServer({ port: await freePort(), uiPort: await freePort(), namespace: 'default' });
try {
  const entry = await compileEntry(api ? 'src/server.ts' : 'src/worker.ts');
  log(`the idle ${api ? 'API' : 'worker'}, ${seconds} s after it runs, ${runs} run(s)`);
  for (let run = 1; run <= runs; run++) await once(run, dbUrl, temporal.address, entry);
} finally {
  await temporal.stop();
}
process.exit(0);
