import { useEffect, useState } from 'preact/hooks';
import { api, type Schemas } from '../api/client';
import { Notice } from '../components/status';
import { formatDateTime } from '../format';
import { StrategyForm } from './strategy-form';

type Strategy = Schemas['DialStrategy'];

/** Estratégias de discagem: the list, and one form to create or edit. */
export function Strategies() {
  const [items, setItems] = useState<Strategy[]>([]);
  const [editing, setEditing] = useState<Strategy | 'new'>();
  const [saved, setSaved] = useState<string>();
  const load = async () => {
    const { data } = await api.GET('/v1/dialer/strategies', { params: { query: { limit: 100 } } });
    setItems(data?.items ?? []);
  };
  useEffect(() => {
    load();
  }, []);
  return (
    <>
      <div class="title-row">
        <h1>Estratégias</h1>
        <button type="button" onClick={() => setEditing('new')}>
          Nova estratégia
        </button>
      </div>
      {saved && <Notice kind="ok">{saved}</Notice>}
      {editing && (
        <StrategyForm
          key={editing === 'new' ? 'new' : editing.id}
          strategy={editing === 'new' ? undefined : editing}
          onSaved={(s) => {
            setSaved(`Estratégia "${s.name}" salva (versão ${s.version}).`);
            setEditing(undefined);
            load();
          }}
        />
      )}
      <table class="data">
        <caption class="sr-only">Estratégias de discagem</caption>
        <thead>
          <tr>
            <th scope="col">Nome</th>
            <th scope="col">Versão</th>
            <th scope="col">Telemarketing</th>
            <th scope="col">Campanhas</th>
            <th scope="col">Atualizada em</th>
            <th scope="col">
              <span class="sr-only">Ações</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((s) => (
            <tr key={s.id}>
              <td>{s.name}</td>
              <td>{s.version}</td>
              <td>{s.telemarketing ? 'Sim' : 'Não'}</td>
              <td>{s.usedBy.map((c) => c.name).join(', ') || '—'}</td>
              <td>{formatDateTime(s.updatedAt)}</td>
              <td>
                <button type="button" class="secondary" aria-label={`Editar ${s.name}`} onClick={() => setEditing(s)}>
                  Editar
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
