import { describe, expect, it } from 'vitest';
import { templateHalt, templateStatusOf } from '../../src/domain/template-halt';

describe('templateHalt: what a template status does to a send', () => {
  const running = { status: 'running', reason: null };
  const pausedByTemplate = { status: 'paused', reason: 'template_paused' };
  const pausedByHand = { status: 'paused', reason: 'manual:Ana' };

  it('pauses on PAUSED, once', () => {
    expect(templateHalt('PAUSED', running)).toEqual({ action: 'pause', reason: 'template_paused' });
    expect(templateHalt('PAUSED', pausedByTemplate)).toBeUndefined();
  });
  it('resumes on APPROVED (or REINSTATED) only the sends its own pause paused', () => {
    expect(templateHalt('APPROVED', pausedByTemplate)).toEqual({ action: 'resume', reason: 'template_paused' });
    expect(templateHalt('REINSTATED', pausedByTemplate)).toEqual({ action: 'resume', reason: 'template_paused' });
    expect(templateHalt('APPROVED', pausedByHand)).toBeUndefined();
    expect(templateHalt('APPROVED', running)).toBeUndefined();
  });
  it('stops on DISABLED and on a template gone', () => {
    expect(templateHalt('DISABLED', running)).toEqual({ action: 'stop', reason: 'template_disabled' });
    for (const gone of ['DELETED', 'PENDING_DELETION', 'ARCHIVED', 'REJECTED', 'MISSING'])
      expect(templateHalt(gone, pausedByHand)).toEqual({ action: 'stop', reason: 'template_missing' });
  });
  it('leaves finished sends and other statuses alone', () => {
    expect(templateHalt('DISABLED', { status: 'completed', reason: null })).toBeUndefined();
    for (const other of ['FLAGGED', 'PENDING', 'IN_APPEAL', 'LIMIT_EXCEEDED']) expect(templateHalt(other, running)).toBeUndefined();
    expect(templateStatusOf('reinstated')).toBe('APPROVED');
  });
});
