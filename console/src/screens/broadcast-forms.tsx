import { useEffect, useState } from 'preact/hooks';
import { api, fieldErrors, problemText, type Schemas } from '../api/client';
import { Field, invalid } from '../components/field';
import { GroupOptions } from '../components/group-options';
import { Notice } from '../components/status';
import { formatNumber } from '../format';
import { BUILTIN_COLUMNS } from '../../../src/domain/broadcast';

type Channel = Schemas['WhatsAppChannel'];
type Template = Schemas['WhatsAppTemplate'];
type Campaign = Schemas['BroadcastCampaign'];
type Send = Schemas['BroadcastSend'];

const DAYS = ['Dom', 'Seg', 'Ter', 'Qua', 'Qui', 'Sex', 'Sáb'];

/** Problems the API states beyond a field's shape, shown next to the field they are about, in Portuguese. */
const fieldOfCode: Record<string, string> = {
  PACE_ABOVE_CHANNEL_LIMIT: 'paceMps',
  TEMPLATE_NOT_FOUND: 'template.name',
  TEMPLATE_NOT_APPROVED: 'template.name',
  TEMPLATE_VARIABLES_MISMATCH: 'variables',
  VARIABLE_COLUMN_UNKNOWN: 'variables',
};
const ptMessages: Record<string, string> = {
  PACE_ABOVE_CHANNEL_LIMIT: 'O ritmo passa do limite do canal.',
  TEMPLATE_NOT_FOUND: 'O canal não tem este modelo; sincronize os modelos.',
  TEMPLATE_NOT_APPROVED: 'Só modelos aprovados pela Meta podem ser enviados.',
  TEMPLATE_VARIABLES_MISMATCH: 'Toda variável do modelo precisa de uma coluna.',
  VARIABLE_COLUMN_UNKNOWN: 'O grupo não tem esta coluna.',
};

/** The field errors of a failed POST: a 400's fields, or a 422's code placed on its field; else a message for the form. */
function problemFields(problem: unknown): { fields: Record<string, string>; message?: string } {
  const fields = fieldErrors(problem);
  const code = (problem as { code?: string } | undefined)?.code ?? '';
  const field = fieldOfCode[code];
  if (field) fields[field] = ptMessages[code] ?? problemText(problem);
  return { fields, message: Object.keys(fields).length ? undefined : problemText(problem) };
}

/** "Nova campanha de broadcast": a name, the channel (business number) that sends, a description. */
export function BroadcastCampaignForm({ channels, onCreated }: { channels: Channel[]; onCreated: (c: Campaign) => void }) {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string>();
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const description = String(form.get('description') ?? '').trim();
    const { data, error } = await api.POST('/v1/broadcast/campaigns', {
      body: { name: String(form.get('name')), channelId: String(form.get('channelId')), ...(description ? { description } : {}) },
    });
    if (data) return onCreated(data);
    const result = problemFields(error);
    setErrors(result.fields);
    setMessage(result.message);
  };
  return (
    <form class="panel grid-form" onSubmit={submit} noValidate aria-label="Nova campanha de broadcast">
      <h2 style="grid-column: 1 / -1">Nova campanha de broadcast</h2>
      <Field id="bc-name" label="Nome" error={errors.name}>
        <input id="bc-name" name="name" required {...invalid('bc-name', errors.name)} />
      </Field>
      <Field id="bc-channel" label="Canal WhatsApp" error={errors.channelId}>
        <select id="bc-channel" name="channelId" {...invalid('bc-channel', errors.channelId)}>
          {channels.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name} ({c.displayNumber})
            </option>
          ))}
        </select>
      </Field>
      <Field id="bc-description" label="Descrição (opcional)" error={errors.description}>
        <textarea id="bc-description" name="description" {...invalid('bc-description', errors.description)} />
      </Field>
      {message && <Notice kind="error">{message}</Notice>}
      <button type="submit">Criar campanha</button>
    </form>
  );
}

/** The columns a group's variables can name: the contact's own fields and the CSV columns seen in its first contacts (as the API checks). */
function useGroupColumns(groupId: string | undefined): string[] {
  const [columns, setColumns] = useState<string[]>([]);
  useEffect(() => {
    if (!groupId) return setColumns([]);
    api.GET('/v1/contact-groups/{id}/contacts', { params: { path: { id: groupId }, query: { limit: 200 } } }).then((r) => {
      const custom = new Set((r.data?.items ?? []).flatMap((c) => Object.keys(c.custom)));
      setColumns([...Object.keys(BUILTIN_COLUMNS), ...custom]);
    });
  }, [groupId]);
  return columns;
}

/** Each placeholder of the template mapped to a column of the group. */
function VariableMapping(props: {
  template: Template;
  columns: string[];
  mapping: Record<string, string>;
  onChange: (m: Record<string, string>) => void;
  error?: string;
}) {
  const { template, columns, mapping, onChange, error } = props;
  if (template.placeholders.length === 0) return <p style="grid-column: 1 / -1">Este modelo não tem variáveis.</p>;
  return (
    <fieldset style="grid-column: 1 / -1" aria-describedby={error ? 'sd-variables-error' : undefined}>
      <legend>Variáveis do modelo → colunas do grupo</legend>
      {template.placeholders.map((p) => (
        <label key={p} class="inline">
          {`{{${p}}}`}{' '}
          <select
            aria-label={`Coluna para {{${p}}}`}
            value={mapping[p] ?? ''}
            onChange={(e) => onChange({ ...mapping, [p]: (e.currentTarget as HTMLSelectElement).value })}
          >
            <option value="">— escolha a coluna —</option>
            {columns.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
      ))}
      {error && (
        <p class="field-error" id="sd-variables-error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}

/** The sending hours from the form: one window on the chosen days, or none (any time) when no hours are given. */
function sendingHoursOf(form: FormData) {
  const from = String(form.get('from') ?? '');
  const to = String(form.get('to') ?? '');
  if (!from && !to) return {};
  return { sendingHours: [{ days: form.getAll('days').map(Number), from, to }] };
}

/** "Novo envio": template, its variables mapped to the group's columns, pace, sending hours and schedule. */
export function SendForm({ campaign, channel, onCreated }: { campaign: Campaign; channel?: Channel; onCreated: (s: Send) => void }) {
  const [groups, setGroups] = useState<Schemas['ContactGroup'][]>([]);
  const [templates, setTemplates] = useState<Template[]>([]);
  const [groupId, setGroupId] = useState<string>();
  const [templateKey, setTemplateKey] = useState<string>();
  const [mapping, setMapping] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string>();
  const columns = useGroupColumns(groupId);
  useEffect(() => {
    api.GET('/v1/contact-groups', { params: { query: { kind: 'broadcast', status: 'active', linked: 'false', limit: 100 } } }).then((r) => {
      setGroups(r.data?.items ?? []);
      setGroupId(r.data?.items[0]?.id);
    });
    api.GET('/v1/whatsapp/channels/{id}/templates', { params: { path: { id: campaign.channelId } } }).then((r) => {
      const approved = (r.data?.items ?? []).filter((t) => t.status === 'APPROVED');
      setTemplates(approved);
      setTemplateKey(approved[0] && `${approved[0].name}|${approved[0].language}`);
    });
  }, [campaign.id]);
  const template = templates.find((t) => `${t.name}|${t.language}` === templateKey);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const startAt = String(form.get('startAt') ?? '');
    const pace = String(form.get('paceMps') ?? '');
    const variables = Object.fromEntries((template?.placeholders ?? []).filter((p) => mapping[p]).map((p) => [p, { column: mapping[p] as string }]));
    const { data, error } = await api.POST('/v1/broadcast/campaigns/{id}/sends', {
      params: { path: { id: campaign.id } },
      body: {
        groupId: groupId ?? '',
        template: { name: template?.name ?? '', language: template?.language ?? 'pt_BR' },
        variables,
        ...(pace ? { paceMps: Number(pace) } : {}),
        ...sendingHoursOf(form),
        // datetime-local is the supervisor's local time; the API takes an instant.
        ...(startAt ? { startAt: new Date(startAt).toISOString() } : {}),
      },
    });
    if (data) return onCreated(data);
    const result = problemFields(error);
    setErrors(result.fields);
    setMessage(result.message);
  };
  const hoursError = Object.entries(errors).find(([k]) => k.startsWith('sendingHours'))?.[1];
  return (
    <form class="panel grid-form" onSubmit={submit} noValidate aria-label="Novo envio">
      <h2 style="grid-column: 1 / -1">Novo envio em {campaign.name}</h2>
      <Field id="sd-group" label="Grupo de contatos" error={errors.groupId}>
        <select
          id="sd-group"
          value={groupId}
          onChange={(e) => setGroupId((e.currentTarget as HTMLSelectElement).value)}
          {...invalid('sd-group', errors.groupId)}
        >
          <GroupOptions groups={groups} />
        </select>
      </Field>
      <Field id="sd-template" label="Modelo (HSM) aprovado" error={errors['template.name']}>
        <select
          id="sd-template"
          value={templateKey}
          onChange={(e) => setTemplateKey((e.currentTarget as HTMLSelectElement).value)}
          {...invalid('sd-template', errors['template.name'])}
        >
          {templates.map((t) => (
            <option key={`${t.name}|${t.language}`} value={`${t.name}|${t.language}`}>
              {t.name} ({t.language})
            </option>
          ))}
        </select>
      </Field>
      {template?.body && <p style="grid-column: 1 / -1">{template.body}</p>}
      {template && <VariableMapping template={template} columns={columns} mapping={mapping} onChange={setMapping} error={errors.variables} />}
      <Field id="sd-pace" label={`Ritmo (msg/s, até ${formatNumber(channel?.mpsLimit ?? 1000)})`} error={errors.paceMps}>
        <input id="sd-pace" name="paceMps" type="number" min={1} max={channel?.mpsLimit} {...invalid('sd-pace', errors.paceMps)} />
      </Field>
      <fieldset style="grid-column: 1 / -1" aria-describedby={hoursError ? 'sd-hours-error' : undefined}>
        <legend>Horário de envio (horário de Brasília; vazio: a qualquer hora)</legend>
        {DAYS.map((d, i) => (
          <label key={d} class="inline">
            <input type="checkbox" name="days" value={i} defaultChecked={i >= 1 && i <= 5} /> {d}
          </label>
        ))}
        <label class="inline">
          Das <input name="from" type="time" aria-label="Envio a partir de" />
        </label>
        <label class="inline">
          às <input name="to" type="time" aria-label="Envio até" />
        </label>
        {hoursError && (
          <p class="field-error" id="sd-hours-error" role="alert">
            {hoursError}
          </p>
        )}
      </fieldset>
      <Field id="sd-start" label="Início agendado (opcional; vazio: agora)" error={errors.startAt}>
        <input id="sd-start" name="startAt" type="datetime-local" {...invalid('sd-start', errors.startAt)} />
      </Field>
      {message && <Notice kind="error">{message}</Notice>}
      <button type="submit">Criar envio</button>
    </form>
  );
}
