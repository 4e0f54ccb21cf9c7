import { describe, expect, it } from 'vitest';
import { callingWindowSchema } from '../../src/domain/dialer/strategy';
import { messageIdOf, notificationKey, questionIdOf, refreshDueAt, throttleDelayMs } from '../../src/domain/mercadolivre';
import { chooseAutoAnswer } from '../../src/domain/mercadolivre-auto-answer';
import { SimError, SimStore } from '../../src/simulators/mercadolivre/store';

const question = { accountId: 'a1', itemId: 'MLB1', itemTitle: 'Fone X1', text: 'Qual o frete grátis?', askedAt: new Date('2026-12-02T15:00:00Z') };
const hours = callingWindowSchema.parse({ days: [1, 2, 3, 4, 5], ranges: [{ from: '09:00', to: '18:00' }] });

describe('automatic answers', () => {
  it('takes the first matching rule by priority, folding case and accents, and fills placeholders', () => {
    const rules = [
      { id: 'r2', accountId: null, keywords: ['GRATIS'], itemId: null, answerText: 'Frete grátis no {item_title}.', priority: 20 },
      { id: 'r1', accountId: null, keywords: ['garantia'], itemId: null, answerText: 'Garantia de 1 ano.', priority: 10 },
    ];
    expect(chooseAutoAnswer(question, rules, { businessHours: null, outOfHoursAnswer: null })).toEqual({ ruleId: 'r2', text: 'Frete grátis no Fone X1.' });
  });

  it("an item rule matches only its listing; another account's rule never matches", () => {
    const rules = [
      { id: 'item', accountId: null, keywords: [], itemId: 'MLB2', answerText: 'x', priority: 1 },
      { id: 'other', accountId: 'a2', keywords: ['frete'], itemId: null, answerText: 'y', priority: 2 },
    ];
    expect(chooseAutoAnswer(question, rules, { businessHours: null, outOfHoursAnswer: null })).toBeUndefined();
  });

  it('answers out of hours only outside the business hours (Brasília time)', () => {
    const settings = { businessHours: hours, outOfHoursAnswer: 'Respondemos às 9h.' };
    expect(chooseAutoAnswer(question, [], settings)).toBeUndefined(); // 12:00 in São Paulo, a Wednesday
    expect(chooseAutoAnswer({ ...question, askedAt: new Date('2026-12-02T23:30:00Z') }, [], settings)).toEqual({ ruleId: null, text: 'Respondemos às 9h.' });
  });
});

describe('notifications', () => {
  it('a retried notification has the same key; resources parse', () => {
    const n = { topic: 'questions', resource: '/questions/5036111111', user_id: 468424240, received: '2026-12-02T10:00:00.000Z', attempts: 1 };
    expect(notificationKey({ ...n, attempts: 3 } as never)).toBe(notificationKey(n as never));
    expect(notificationKey({ ...n, user_id: '468424240' })).toBe(notificationKey(n));
    expect(questionIdOf('/questions/5036111111')).toBe('5036111111');
    expect(messageIdOf('0a1b2c3d')).toBe('0a1b2c3d');
    expect(refreshDueAt(10_000, 0, 3000)).toBe(7000);
    expect(refreshDueAt(1000, 5000, 3000)).toBe(5000);
    expect(throttleDelayMs(1, 0)).toBe(1000);
  });
});

describe('simulator OAuth', () => {
  it('a refresh token works once: the second use is invalid_grant', () => {
    const store = new SimStore({ applicationId: 1, clientId: 'c', clientSecret: 's', accessTokenSeconds: 60 });
    store.seed();
    const code = store.issueCode(468424240, 'http://x/cb');
    const grant = store.token({ grant_type: 'authorization_code', client_id: 'c', client_secret: 's', code, redirect_uri: 'http://x/cb' });
    const next = store.token({ grant_type: 'refresh_token', client_id: 'c', client_secret: 's', refresh_token: grant.refresh_token });
    expect(next.refresh_token).not.toBe(grant.refresh_token);
    expect(() => store.token({ grant_type: 'refresh_token', client_id: 'c', client_secret: 's', refresh_token: grant.refresh_token })).toThrow(SimError);
    expect(store.authenticate(`Bearer ${next.access_token}`)).toBe(468424240);
  });
});
