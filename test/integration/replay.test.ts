import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Worker } from '@temporalio/worker';
import { expect, inject, it } from 'vitest';
import * as workflows from '../../src/workflows/index';
import { historyFromCliJson } from '../replay/history-json';

// Every committed history (test/replay/histories/**: captured from real runs by
// `npm run capture-histories` and `npm run upgrade-exercise -- <ref>`) replayed against the
// current workflow code: a change of shape that would break a running workflow fails here.

const root = 'test/replay/histories';
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.json') ? [join(dir, e.name)] : []));

interface Captured {
  workflowId: string;
  history: { events: { workflowExecutionStartedEventAttributes?: { workflowType: { name: string } } }[] };
}
const captured = files(root).map((file) => ({ file: relative(root, file), ...(JSON.parse(readFileSync(file, 'utf8')) as Captured) }));
const typeOf = (c: Captured) => c.history.events[0].workflowExecutionStartedEventAttributes?.workflowType.name;

it('has a history of the current code for every workflow kind the worker runs', () => {
  const current = new Set(captured.filter((c) => c.file.startsWith('current/')).map(typeOf));
  expect([...current].sort()).toEqual(Object.keys(workflows).sort());
});

it('replays every committed history against the current code', async () => {
  const failures: string[] = [];
  const replayed = Worker.runReplayHistories(
    { workflowBundle: { codePath: inject('workflowBundlePath') }, replayName: 'committed-histories' },
    captured.map((c) => ({ workflowId: c.file, history: historyFromCliJson(c.history) })),
  );
  let count = 0;
  for await (const result of replayed) {
    count++;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  expect(failures).toEqual([]);
  expect(count).toBe(captured.length);
});
