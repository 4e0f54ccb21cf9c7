import { useEffect, useState } from 'preact/hooks';
import { api, problemText, type Schemas } from '../api/client';
import { Field } from '../components/field';
import { Badge, Notice } from '../components/status';
import { formatDateTime, formatNumber } from '../format';

type Definition = Schemas['ReportDefinition'];
type Run = Schemas['ReportRun'];

/** Polls a run until it ends (the export is a workflow); the file link appears when it completes. */
function useRun(runId: string | undefined) {
  const [run, setRun] = useState<Run>();
  useEffect(() => {
    if (!runId) return;
    let stopped = false;
    const tick = async () => {
      const { data } = await api.GET('/v1/reports/runs/{runId}', { params: { path: { runId } } });
      if (stopped || !data) return;
      setRun(data);
      if (data.status === 'running') setTimeout(tick, 1000);
    };
    tick();
    return () => {
      stopped = true;
    };
  }, [runId]);
  return run;
}

/** The tenant's campaigns by name, so a supervisor picks one instead of typing its id. */
function useCampaignChoices() {
  const [choices, setChoices] = useState<{ group: string; items: { id: string; name: string }[] }[]>([]);
  useEffect(() => {
    Promise.all([
      api.GET('/v1/dialer/campaigns', { params: { query: { limit: 100 } } }),
      api.GET('/v1/broadcast/campaigns', { params: { query: { limit: 100 } } }),
    ]).then(([dialer, broadcast]) =>
      setChoices([
        { group: 'Discador', items: dialer.data?.items ?? [] },
        { group: 'Broadcast', items: broadcast.data?.items ?? [] },
      ]),
    );
  }, []);
  return choices;
}

function CampaignSelect({ id, name }: { id: string; name: string }) {
  const choices = useCampaignChoices();
  return (
    <select id={id} name={name}>
      <option value="">Todas</option>
      {choices
        .filter((c) => c.items.length > 0)
        .map((c) => (
          <optgroup key={c.group} label={c.group}>
            {c.items.map((item) => (
              <option key={item.id} value={item.id}>
                {item.name}
              </option>
            ))}
          </optgroup>
        ))}
    </select>
  );
}

function FilterInput({ filter }: { filter: Definition['filters'][number] }) {
  const id = `rf-${filter.name}`;
  const text = `${filter.description}${filter.required ? ' (obrigatório)' : ''}`;
  return (
    <Field id={id} label={text}>
      {filter.name === 'campaignId' ? (
        <CampaignSelect id={id} name={filter.name} />
      ) : filter.values ? (
        <select id={id} name={filter.name}>
          <option value="">—</option>
          {filter.values.map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
      ) : (
        <input id={id} name={filter.name} type={filter.type === 'datetime' ? 'datetime-local' : 'text'} required={filter.required} />
      )}
    </Field>
  );
}

/** Relatórios: the catalogue, a run with its filters, its progress and the download. */
export function Reports() {
  const [catalogue, setCatalogue] = useState<Definition[]>([]);
  const [chosen, setChosen] = useState<string>('');
  const [runId, setRunId] = useState<string>();
  const [error, setError] = useState<string>();
  const run = useRun(runId);
  useEffect(() => {
    api.GET('/v1/reports').then((r) => {
      const items = r.data?.items ?? [];
      setCatalogue(items);
      setChosen(items[0]?.id ?? '');
    });
  }, []);
  const def = catalogue.find((d) => d.id === chosen);
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!def) return;
    setError(undefined);
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const filters: Record<string, string> = {};
    for (const f of def.filters) {
      const value = String(form.get(f.name) ?? '');
      if (value) filters[f.name] = f.type === 'datetime' ? new Date(value).toISOString() : value;
    }
    const format = String(form.get('format')) as 'csv' | 'xlsx';
    const { data, error: problem } = await api.POST('/v1/reports/{reportId}/runs', {
      params: { path: { reportId: def.id } },
      body: { filters, format, locale: 'pt-BR' },
    });
    if (data) setRunId(data.id);
    else setError(problemText(problem));
  };
  return (
    <>
      <h1>Relatórios</h1>
      <form class="panel grid-form" onSubmit={submit} aria-label="Gerar relatório">
        <Field id="rp-report" label="Relatório">
          <select id="rp-report" value={chosen} onChange={(e) => setChosen((e.currentTarget as HTMLSelectElement).value)}>
            {catalogue.map((d) => (
              <option key={d.id} value={d.id}>
                {d.section} — {d.name}
              </option>
            ))}
          </select>
        </Field>
        {def && <p style="grid-column: 1 / -1">{def.description}</p>}
        {def?.filters.map((f) => (
          <FilterInput key={`${def.id}-${f.name}`} filter={f} />
        ))}
        <Field id="rp-format" label="Formato">
          <select id="rp-format" name="format">
            <option value="csv">CSV</option>
            <option value="xlsx">Excel (XLSX)</option>
          </select>
        </Field>
        <button type="submit">Gerar relatório</button>
      </form>
      {error && <Notice kind="error">{error}</Notice>}
      {run && (
        <section class="panel" aria-label="Execução do relatório">
          <p>
            {run.reportName}: <Badge value={run.status} /> — {formatNumber(run.progress?.rowsWritten ?? run.rowsWritten)} linha(s)
          </p>
          {run.error && <Notice kind="error">{run.error}</Notice>}
          {run.status === 'completed' && (
            <p>
              <a href={run.links.file} download={run.fileName}>
                Baixar {run.fileName}
              </a>{' '}
              (disponível até {formatDateTime(run.expiresAt)})
            </p>
          )}
        </section>
      )}
    </>
  );
}
