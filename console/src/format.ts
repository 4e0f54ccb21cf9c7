/** Brazilian formats: 1.234,5 and 03/12/2026 14:05. */
const number = new Intl.NumberFormat('pt-BR');
const percent = new Intl.NumberFormat('pt-BR', { style: 'percent', maximumFractionDigits: 1 });
const dateTime = new Intl.DateTimeFormat('pt-BR', { dateStyle: 'short', timeStyle: 'short', timeZone: 'America/Sao_Paulo' });

export const formatNumber = (n: number | null | undefined) => (n == null ? '—' : number.format(n));
export const formatPercent = (ratio: number | null | undefined) => (ratio == null ? '—' : percent.format(ratio));
const dateTimeSeconds = new Intl.DateTimeFormat('pt-BR', { dateStyle: 'short', timeStyle: 'medium', timeZone: 'America/Sao_Paulo' });

export const formatDateTime = (iso: string | null | undefined, opts: { seconds?: boolean } = {}) =>
  iso ? (opts.seconds ? dateTimeSeconds : dateTime).format(new Date(iso)) : '—';
