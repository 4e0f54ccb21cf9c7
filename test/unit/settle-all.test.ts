import { describe, expect, it } from 'vitest';
import { settleAll } from '../helpers/settle-all';

describe('settleAll (the test run starts its servers with it)', () => {
  it('gives every value in order when all start', async () => {
    const [a, b] = await settleAll([Promise.resolve(1), Promise.resolve('two')] as const);
    expect([a, b]).toEqual([1, 'two']);
  });

  it('stops what came up, cleans up and rethrows the failure when one start fails', async () => {
    const stopped: string[] = [];
    let cleaned = false;
    const server = { stop: async () => void stopped.push('server') };
    const failure = new Error('initdb: could not access directory');
    const slow = new Promise<typeof server>((resolve) => setTimeout(() => resolve({ stop: async () => void stopped.push('slow') }), 20));
    await expect(settleAll([Promise.resolve(server), Promise.reject(failure), slow] as const, () => (cleaned = true))).rejects.toBe(failure);
    expect(stopped.sort()).toEqual(['server', 'slow']);
    expect(cleaned).toBe(true);
  });
});
