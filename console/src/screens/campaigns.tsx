import { useEffect, useState } from 'preact/hooks';
import { api, fieldErrors, problemText, type Schemas } from '../api/client';
import { Field, invalid } from '../components/field';
import { GroupOptions } from '../components/group-options';
import { Badge, Notice } from '../components/status';
import { num, TableHead } from '../components/table-head';
import { formatDateTime, formatNumber, formatPercent } from '../format';
import { go } from '../router';

type Campaign = Schemas['DialerCampaign'];

function CampaignForm({ onCreated }: { onCreated: (c: Campaign) => void }) {
  const [groups, setGroups] = useState<Schemas['ContactGroup'][]>([]);
  const [strategies, setStrategies] = useState<Schemas['DialStrategy'][]>([]);
  const [agents, setAgents] = useState<Schemas['Agent'][]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string>();
  useEffect(() => {
    api
      .GET('/v1/contact-groups', { params: { query: { kind: 'dialer', status: 'active', linked: 'false', limit: 100 } } })
      .then((r) => setGroups(r.data?.items ?? []));
    api.GET('/v1/dialer/strategies', { params: { query: { limit: 100 } } }).then((r) => setStrategies(r.data?.items ?? []));
    api.GET('/v1/agents', { params: { query: { limit: 200 } } }).then((r) => setAgents(r.data?.items ?? []));
  }, []);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const startAt = String(form.get('startAt') ?? '');
    const endAt = String(form.get('endAt') ?? '');
    const { data, error } = await api.POST('/v1/dialer/campaigns', {
      body: {
        name: String(form.get('name')),
        groupId: String(form.get('groupId')),
        strategyId: String(form.get('strategyId')),
        // datetime-local is the supervisor's local time; the API takes an instant.
        ...(startAt ? { startAt: new Date(startAt).toISOString() } : {}),
        ...(endAt ? { endAt: new Date(endAt).toISOString() } : {}),
        agentIds: form.getAll('agentIds').map(String),
      },
    });
    if (data) {
      onCreated(data);
      return;
    }
    const fields = fieldErrors(error);
    setErrors(fields);
    setMessage(Object.keys(fields).length ? undefined : problemText(error));
  };
  return (
    <form class="panel grid-form" onSubmit={submit} noValidate aria-label="Nova campanha">
      <h2 style="grid-column: 1 / -1">Nova campanha</h2>
      <Field id="cp-name" label="Nome" error={errors.name}>
        <input id="cp-name" name="name" required {...invalid('cp-name', errors.name)} />
      </Field>
      <Field id="cp-group" label="Grupo de contatos" error={errors.groupId}>
        <select id="cp-group" name="groupId" {...invalid('cp-group', errors.groupId)}>
          <GroupOptions groups={groups} />
        </select>
      </Field>
      <Field id="cp-strategy" label="Estratégia" error={errors.strategyId}>
        <select id="cp-strategy" name="strategyId" {...invalid('cp-strategy', errors.strategyId)}>
          {strategies.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
      </Field>
      <Field id="cp-start" label="Início agendado (opcional)" error={errors.startAt}>
        <input id="cp-start" name="startAt" type="datetime-local" step={1} {...invalid('cp-start', errors.startAt)} />
      </Field>
      <Field id="cp-end" label="Término agendado (opcional)" error={errors.endAt}>
        <input id="cp-end" name="endAt" type="datetime-local" {...invalid('cp-end', errors.endAt)} />
      </Field>
      {agents.length > 0 && (
        <fieldset style="grid-column: 1 / -1">
          <legend>Agentes que atendem as chamadas (opcional)</legend>
          {agents.map((a) => (
            <label key={a.id} class="inline">
              <input type="checkbox" name="agentIds" value={a.id} /> {a.name}
            </label>
          ))}
          {errors.agentIds && <p class="field-error">{errors.agentIds}</p>}
        </fieldset>
      )}
      {message && <Notice kind="error">{message}</Notice>}
      <button type="submit">Criar campanha</button>
    </form>
  );
}

/** Campanhas (Discador): the list, and a new one with its group, strategy and schedule. */
export function Campaigns() {
  const [items, setItems] = useState<Campaign[]>([]);
  const [creating, setCreating] = useState(false);
  useEffect(() => {
    api.GET('/v1/dialer/campaigns', { params: { query: { limit: 100 } } }).then((r) => setItems(r.data?.items ?? []));
  }, []);
  return (
    <>
      <div class="title-row">
        <h1>Campanhas</h1>
        <button type="button" onClick={() => setCreating(!creating)}>
          Nova campanha
        </button>
      </div>
      {creating && <CampaignForm onCreated={(c) => go(`campanhas/${c.id}`)} />}
      <table class="data">
        <caption class="sr-only">Campanhas do discador</caption>
        <TableHead columns={['Nome', 'Status', num('Contatos'), num('Atendidas'), num('Taxa de atendimento'), 'Início']} />
        <tbody>
          {items.map((c) => (
            <tr key={c.id}>
              <td>
                <a href={`#/campanhas/${c.id}`}>{c.name}</a>
              </td>
              <td>
                <Badge value={c.status} />
              </td>
              <td class="num">{formatNumber(c.headline.contacts)}</td>
              <td class="num">{formatNumber(c.headline.answered)}</td>
              <td class="num">{formatPercent(c.headline.answerRate)}</td>
              <td>{formatDateTime(c.startedAt ?? c.startAt)}</td>
            </tr>
          ))}
          {items.length === 0 && (
            <tr>
              <td colSpan={6}>Nenhuma campanha ainda.</td>
            </tr>
          )}
        </tbody>
      </table>
    </>
  );
}
