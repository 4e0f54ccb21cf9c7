type Stoppable = { stop(): Promise<void> };
const stoppable = (value: unknown): value is Stoppable => typeof (value as Stoppable | null)?.stop === 'function';

/**
 * Awaits every start at once. When one fails, stops those that came up (anything with a `stop()`),
 * runs `cleanUp` and rethrows the first failure: a server left running would keep the process
 * alive after the error is reported, and the test run would hang instead of failing.
 */
export async function settleAll<T extends readonly unknown[]>(starts: T, cleanUp?: () => void): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (!failed) return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
  await Promise.allSettled(settled.map((s) => (s.status === 'fulfilled' && stoppable(s.value) ? s.value.stop() : undefined)));
  cleanUp?.();
  throw failed.reason;
}
