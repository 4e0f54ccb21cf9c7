import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, problemText, type Schemas } from '../api/client';
import { Badge, label, Notice } from '../components/status';
import { formatNumber } from '../format';
import { GroupImport } from './group-import';

type Group = Schemas['ContactGroup'];
interface Filters {
  name: string;
  status: '' | 'active' | 'inactive';
  kind: '' | 'dialer' | 'broadcast';
  linked: '' | 'true' | 'false';
}

type Choice = keyof Omit<Filters, 'name'>;

/** One filter of the bar: "Todos" and the values of one field. */
function FilterSelect({ label, value, options, onChange }: { label: string; value: string; options: [string, string][]; onChange: (e: Event) => void }) {
  return (
    <label>
      {label}
      <select value={value} onChange={onChange}>
        <option value="">Todos</option>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

const CHOICES: { key: Choice; label: string; options: [string, string][] }[] = [
  {
    key: 'status',
    label: 'Status',
    options: [
      ['active', 'Ativo'],
      ['inactive', 'Inativo'],
    ],
  },
  {
    key: 'kind',
    label: 'Tipo',
    options: [
      ['dialer', 'Discador'],
      ['broadcast', 'Broadcast'],
    ],
  },
  {
    key: 'linked',
    label: 'Campanha',
    options: [
      ['true', 'Vinculados a campanha'],
      ['false', 'Sem campanha'],
    ],
  },
];

function FilterBar({ filters, onChange }: { filters: Filters; onChange: (f: Filters) => void }) {
  const set = (key: keyof Filters) => (event: Event) => onChange({ ...filters, [key]: (event.currentTarget as HTMLInputElement).value });
  return (
    <form class="filters" aria-label="Filtros" onSubmit={(e) => e.preventDefault()}>
      <label>
        Nome
        <input type="search" value={filters.name} onInput={set('name')} />
      </label>
      {CHOICES.map((c) => (
        <FilterSelect key={c.key} label={c.label} value={filters[c.key]} options={c.options} onChange={set(c.key)} />
      ))}
    </form>
  );
}

/** Tela de Grupo de Contatos: the seed's table, its filters, the batch action and the "+". */
export function Groups() {
  const [filters, setFilters] = useState<Filters>({ name: '', status: '', kind: '', linked: '' });
  const [groups, setGroups] = useState<Group[]>([]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [messages, setMessages] = useState<{ kind: 'ok' | 'error'; text: string }[]>([]);
  const [importing, setImporting] = useState(false);

  const load = useCallback(async () => {
    const query = { limit: 100, ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== '')) };
    const { data, error } = await api.GET('/v1/contact-groups', { params: { query } });
    if (data) setGroups(data.items);
    else setMessages([{ kind: 'error', text: problemText(error) }]);
  }, [filters]);
  useEffect(() => {
    load();
  }, [load]);

  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };

  const batch = async (status: 'active' | 'inactive') => {
    const { data, error } = await api.POST('/v1/contact-groups/batch-status', { body: { ids: [...selected], status } });
    if (!data) {
      setMessages([{ kind: 'error', text: problemText(error) }]);
      return;
    }
    const byId = new Map(groups.map((g) => [g.id, g]));
    const done = data.results.filter((r) => r.ok).length;
    setMessages([
      ...(done ? [{ kind: 'ok' as const, text: `${done} grupo(s) ${status === 'active' ? 'ativado(s)' : 'inativado(s)'}.` }] : []),
      ...data.results
        .filter((r) => !r.ok)
        .map((r) => {
          const g = byId.get(r.id);
          const linked = g?.campaign ? `O grupo "${g.name}" está vinculado à campanha "${g.campaign.name}" e não pode ser editado.` : undefined;
          return { kind: 'error' as const, text: linked ?? `${g?.name ?? r.id}: ${r.detail ?? r.code}` };
        }),
    ]);
    setSelected(new Set());
    load();
  };

  return (
    <>
      <div class="title-row">
        <h1>Grupos de Contatos</h1>
        <button type="button" class="icon" aria-label="Novo grupo (importar CSV)" title="Novo grupo (importar CSV)" onClick={() => setImporting(!importing)}>
          +
        </button>
      </div>
      {importing && <GroupImport onDone={load} />}
      <FilterBar filters={filters} onChange={setFilters} />
      <fieldset class="batch">
        <legend class="sr-only">Ação em lote</legend>
        <span>{selected.size} selecionado(s)</span>
        <button type="button" disabled={selected.size === 0} onClick={() => batch('active')}>
          Ativar
        </button>
        <button type="button" disabled={selected.size === 0} onClick={() => batch('inactive')}>
          Inativar
        </button>
      </fieldset>
      {messages.map((m, i) => (
        <Notice key={i} kind={m.kind}>
          {m.text}
        </Notice>
      ))}
      <table class="data">
        <caption class="sr-only">Grupos de contatos</caption>
        <thead>
          <tr>
            <th scope="col">
              <span class="sr-only">Selecionar</span>
            </th>
            <th scope="col">Nome</th>
            <th scope="col">Tipo</th>
            <th scope="col" class="num">
              Contatos
            </th>
            <th scope="col">Campanha</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {groups.map((g) => (
            <tr key={g.id}>
              <td>
                <input type="checkbox" aria-label={`Selecionar ${g.name}`} checked={selected.has(g.id)} onChange={() => toggle(g.id)} />
              </td>
              <td>{g.name}</td>
              <td>{label(g.kind)}</td>
              <td class="num">{formatNumber(g.contactCount)}</td>
              <td>{g.campaign?.name ?? '—'}</td>
              <td>
                <Badge value={g.status} />
              </td>
            </tr>
          ))}
          {groups.length === 0 && (
            <tr>
              <td colSpan={6}>Nenhum grupo encontrado.</td>
            </tr>
          )}
        </tbody>
      </table>
    </>
  );
}
