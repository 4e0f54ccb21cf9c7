/** Words for the API's states, in the seed's Portuguese. */
const labels: Record<string, string> = {
  active: 'Ativo',
  inactive: 'Inativo',
  dialer: 'Discador',
  broadcast: 'Broadcast',
  pending: 'Na fila',
  running: 'Em andamento',
  completed: 'Concluído',
  failed: 'Falhou',
  cancelled: 'Cancelado',
  draft: 'Rascunho',
  scheduled: 'Agendada',
  paused: 'Pausada',
  stopped: 'Encerrada',
  finished: 'Finalizada',
};

export const label = (value: string | null | undefined) => (value ? (labels[value] ?? value) : '—');

export function Badge({ value }: { value: string }) {
  return <span class={`badge badge-${value}`}>{label(value)}</span>;
}

/** A message for the screen: polite for news, assertive for errors. */
export function Notice({ kind, children }: { kind: 'ok' | 'error'; children: preact.ComponentChildren }) {
  return (
    <div class={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}
