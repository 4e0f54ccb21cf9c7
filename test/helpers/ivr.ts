import { expect } from 'vitest';
import type { SimConfigPatch } from '../../src/simulators/ari/config';
import type { AriSimulator } from '../../src/simulators/ari/server';

/**
 * The ARI simulator as the customers of an IVR test: every call answers and stays up `talkMs`
 * unless hung up; short prompts; at the menu prompt (`cobranca/opcoes`) numbers ending in 1, 2 or 9
 * press that key, in 5 press 5 then 2 (invalid, then boleto), in 7 hang up during the first prompt;
 * the others never press anything.
 */
export function ivrSimConfig(talkMs: number): SimConfigPatch {
  return {
    seed: 13,
    ringMs: [20, 60],
    rules: [{ match: '.', mix: [{ outcome: 'answered', weight: 1 }], talkMs: [talkMs, talkMs] }],
    machineShare: 0,
    media: { soundMs: 120, numberMs: 120, digitMs: 20, recordingMs: 120 },
    keyDelayMs: [30, 80],
    interDigitMs: 20,
    keypad: [
      { match: '1$', keys: ['1'], promptMatch: 'cobranca/opcoes' },
      { match: '2$', keys: ['2'], promptMatch: 'cobranca/opcoes' },
      { match: '9$', keys: ['9'], promptMatch: 'cobranca/opcoes' },
      { match: '5$', keys: ['5', '2'], promptMatch: 'cobranca/opcoes' },
      { match: '7$', hangupDuringPlayback: 1 },
    ],
  };
}

export const csvRows = (body: string) =>
  body
    .replace(/^\uFEFF/, '')
    .trimEnd()
    .split(/\r?\n/)
    .map((line) => line.split(';'));

/** No channel ever had two playbacks at once (none waited queued behind another, none started before the previous ended). */
export function expectNoOverlappingPlaybacks(sim: AriSimulator): void {
  expect(sim.stats().playbacksQueued).toBe(0);
  const byChannel = new Map<string, ReturnType<AriSimulator['playbacks']>>();
  for (const p of sim.playbacks()) byChannel.set(p.channelId, [...(byChannel.get(p.channelId) ?? []), p]);
  const overlaps: string[] = [];
  for (const list of byChannel.values()) {
    for (let i = 1; i < list.length; i++) {
      const before = list[i - 1];
      const next = list[i];
      if (next?.startedAt && before && (!before.finishedAt || Date.parse(next.startedAt) < Date.parse(before.finishedAt))) overlaps.push(next.id);
    }
  }
  expect(overlaps).toEqual([]);
}
