import { describe, expect, it } from 'vitest';
import {
  classifyWhatsAppError,
  isFinalStatus,
  isOptOutReply,
  nextStatus,
  statusRank,
  type WhatsAppErrorAction,
  type WhatsAppMessageStatus,
} from '../../src/domain/whatsapp-error-policy';

describe('classifyWhatsAppError follows shared/whatsapp-errors.md', () => {
  const table: [WhatsAppErrorAction, number[]][] = [
    ['retry', [130429, 4, 80007, 1, 2, 131000, 131016, 131057]],
    ['retry_recipient_later', [131056]],
    ['permanent', [131049, 130472, 131026, 131047, 131051, 100, 131008, 131009, 132005, 132007, 132012]],
    ['permanent_opt_out', [131050]],
    ['stop_campaign', [132000, 132001, 132016]],
    ['pause_campaign', [132015, 131042, 0, 190, 3, 10, 200, 250, 299, 133010, 131048, 368, 131031, 130497]],
  ];
  for (const [action, codes] of table) {
    it.each(codes)(`%i → ${action}`, (code) => {
      const decision = classifyWhatsAppError(code);
      expect(decision.action).toBe(action);
      expect(decision.reason).toMatch(/^[a-z_]+$/);
    });
  }

  it('gives every retry a first wait, and the pair limit at least 6 s', () => {
    for (const code of [130429, 4, 80007, 1, 2, 131000, 131016, 131057]) {
      expect(classifyWhatsAppError(code).retryAfterMs).toBeGreaterThan(0);
    }
    expect(classifyWhatsAppError(131056).retryAfterMs).toBeGreaterThanOrEqual(6_000);
  });

  it('keeps a user hit by the marketing cap out for 24 h', () => {
    expect(classifyWhatsAppError(131049)).toMatchObject({ action: 'permanent', retryAfterMs: 24 * 3_600_000 });
  });

  it('names the pause reasons a supervisor sees', () => {
    expect(classifyWhatsAppError(190).reason).toBe('access_token_invalid');
    expect(classifyWhatsAppError(132015).reason).toBe('template_paused');
    expect(classifyWhatsAppError(131048).reason).toBe('spam_rate_limit');
    expect(classifyWhatsAppError(132016).reason).toBe('template_disabled');
  });

  it('fails only the message for an unknown code, without retrying', () => {
    expect(classifyWhatsAppError(987654)).toEqual({ action: 'permanent', reason: 'unknown_error_code' });
    expect(classifyWhatsAppError(300).action).toBe('permanent');
  });

  it('retries a throughput refusal (130429) at a flat wait, the other retries with backoff', () => {
    expect(classifyWhatsAppError(130429)).toMatchObject({ action: 'retry', flatBackoff: true });
    for (const code of [4, 80007, 131000, 131057]) expect(classifyWhatsAppError(code).flatBackoff).toBeUndefined();
  });

  it('hands out copies, so a caller cannot change the table', () => {
    const decision = classifyWhatsAppError(130429);
    decision.action = 'stop_campaign';
    expect(classifyWhatsAppError(130429).action).toBe('retry');
  });
});

describe('isOptOutReply', () => {
  it.each([
    'SAIR',
    'sair',
    '  Sair  ',
    'Sair!',
    'PARAR',
    'parar.',
    'STOP',
    'Cancelar',
    'DESCADASTRAR',
    'descadastrar 🙏',
    'Não quero mais',
    'NAO QUERO MAIS',
    'pare',
    'Sair\n',
  ])('%j is an opt-out', (text) => expect(isOptOutReply(text)).toBe(true));

  it.each(['vou sair mais tarde', 'sair?? quando chega meu pedido', 'STOP 123', 'obrigado', '', 'Parar não, quero sim', 'sim'])(
    '%j is not an opt-out (the whole message must be one)',
    (text) => expect(isOptOutReply(text)).toBe(false),
  );

  it('accepts missing text', () => {
    expect(isOptOutReply(undefined)).toBe(false);
    expect(isOptOutReply(null)).toBe(false);
  });
});

describe('message status order', () => {
  it('ranks accepted < sent < delivered < read', () => {
    const order: WhatsAppMessageStatus[] = ['accepted', 'sent', 'delivered', 'read'];
    for (let i = 1; i < order.length; i++) expect(statusRank(order[i])).toBeGreaterThan(statusRank(order[i - 1]));
  });

  it('never moves backwards', () => {
    expect(nextStatus('read', 'delivered')).toBe('read');
    expect(nextStatus('read', 'sent')).toBe('read');
    expect(nextStatus('delivered', 'sent')).toBe('delivered');
    expect(nextStatus('sent', 'read')).toBe('read');
    expect(nextStatus(undefined, 'delivered')).toBe('delivered');
  });

  it('ends in the same state whatever the arrival order, duplicates and skipped delivered included', () => {
    const arrivals: WhatsAppMessageStatus[][] = [
      ['sent', 'delivered', 'read'],
      ['read', 'delivered', 'sent'],
      ['delivered', 'read', 'sent', 'read', 'delivered'],
      ['sent', 'read'],
      ['read', 'sent', 'sent'],
    ];
    for (const events of arrivals) {
      expect(events.reduce<WhatsAppMessageStatus | undefined>(nextStatus, 'accepted')).toBe('read');
    }
  });

  it('applies failed only to a message never delivered, and keeps it', () => {
    expect(nextStatus('accepted', 'failed')).toBe('failed');
    expect(nextStatus('sent', 'failed')).toBe('failed');
    expect(nextStatus('delivered', 'failed')).toBe('delivered');
    expect(nextStatus('read', 'failed')).toBe('read');
    expect(nextStatus('failed', 'sent')).toBe('failed');
    expect(nextStatus('failed', 'delivered')).toBe('failed');
  });

  it('calls read and failed final', () => {
    expect(isFinalStatus('read')).toBe(true);
    expect(isFinalStatus('failed')).toBe(true);
    expect(isFinalStatus('delivered')).toBe(false);
  });
});
