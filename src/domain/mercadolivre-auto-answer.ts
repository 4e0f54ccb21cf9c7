import type { CallingWindow } from './dialer/strategy';
import { isOpen, ruleOfWindow } from './dialer/windows';

/**
 * Mercado Livre's automatic answers: the rule that answers a new question, or the out-of-hours
 * answer. Apart from domain/mercadolivre.ts because the calling windows (and their holiday
 * calendar) must stay out of the account workflow's bundle, which imports that module.
 */

export interface AutoRule {
  id: string;
  accountId: string | null;
  keywords: string[];
  itemId: string | null;
  answerText: string;
  priority: number;
}

export interface QuestionForRules {
  accountId: string;
  itemId: string;
  itemTitle: string | null;
  text: string;
  askedAt: Date;
}

export interface AutoAnswerSettings {
  businessHours: CallingWindow | null;
  outOfHoursAnswer: string | null;
}

/** Lower case without accents, so "frete grátis" matches "FRETE GRATIS". */
export const foldText = (s: string) =>
  s
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase();

/** `{item_title}`, `{item_id}`: the placeholders an answer text may carry. */
export const ANSWER_PLACEHOLDERS = ['item_title', 'item_id'] as const;

export function fillPlaceholders(text: string, q: QuestionForRules): string {
  return text.replace(/\{(item_title|item_id)\}/g, (_, name: string) => (name === 'item_title' ? (q.itemTitle ?? q.itemId) : q.itemId));
}

export function unknownPlaceholders(text: string): string[] {
  return [...text.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]).filter((n) => !(ANSWER_PLACEHOLDERS as readonly string[]).includes(n));
}

/**
 * The automatic answer for a new question, if any: the first matching rule by priority (an item
 * rule matches its listing, a keyword rule any of its words, both when it has both); else, outside
 * business hours, the out-of-hours answer.
 */
export function chooseAutoAnswer(q: QuestionForRules, rules: AutoRule[], settings: AutoAnswerSettings): { ruleId: string | null; text: string } | undefined {
  const folded = foldText(q.text);
  const sorted = [...rules].sort((a, b) => a.priority - b.priority);
  for (const rule of sorted) {
    if (rule.accountId && rule.accountId !== q.accountId) continue;
    if (rule.itemId && rule.itemId !== q.itemId) continue;
    if (rule.keywords.length > 0 && !rule.keywords.some((k) => folded.includes(foldText(k)))) continue;
    if (!rule.itemId && rule.keywords.length === 0) continue;
    return { ruleId: rule.id, text: fillPlaceholders(rule.answerText, q) };
  }
  if (settings.businessHours && settings.outOfHoursAnswer && !isOpen(ruleOfWindow(settings.businessHours), q.askedAt)) {
    return { ruleId: null, text: fillPlaceholders(settings.outOfHoursAnswer, q) };
  }
  return undefined;
}
