import { useEffect, useState } from 'preact/hooks';
import { api, problemText, type Schemas, upload } from '../api/client';
import { Badge, Notice } from '../components/status';
import { formatNumber } from '../format';

type Import = Schemas['Import'];
type Rejection = Schemas['ImportRejection'];

/** Polls the import until it ends, then reads its rejected rows (the first page: what to fix). */
function useImportProgress(importId: string | undefined) {
  const [current, setCurrent] = useState<Import>();
  const [rejections, setRejections] = useState<Rejection[]>([]);
  useEffect(() => {
    if (!importId) return;
    let stopped = false;
    const tick = async () => {
      const { data } = await api.GET('/v1/imports/{id}', { params: { path: { id: importId } } });
      if (stopped || !data) return;
      setCurrent(data);
      if (['pending', 'running'].includes(data.status)) {
        setTimeout(tick, 1000);
        return;
      }
      const rej = await api.GET('/v1/imports/{id}/rejections', { params: { path: { id: importId }, query: { limit: 100 } } });
      if (!stopped) setRejections(rej.data?.items ?? []);
    };
    tick();
    return () => {
      stopped = true;
    };
  }, [importId]);
  return { current, rejections };
}

function ImportProgress({ importId }: { importId: string }) {
  const { current, rejections } = useImportProgress(importId);
  if (!current) return <p aria-busy="true">Enviando…</p>;
  return (
    <section aria-label="Progresso da importação" class="import-progress">
      <p>
        Importação de <strong>{current.fileName}</strong>: <Badge value={current.status} />
      </p>
      <dl class="counters">
        <dt>Linhas lidas</dt>
        <dd data-testid="rows-read">{formatNumber(current.rowsRead)}</dd>
        <dt>Importadas</dt>
        <dd data-testid="rows-imported">{formatNumber(current.rowsImported)}</dd>
        <dt>Rejeitadas</dt>
        <dd data-testid="rows-rejected">{formatNumber(current.rowsRejected)}</dd>
      </dl>
      {current.error && <Notice kind="error">{current.error}</Notice>}
      {rejections.length > 0 && (
        <>
          <h3>Linhas rejeitadas</h3>
          <p>
            <a href={current.links.rejectionsCsv}>Baixar linhas rejeitadas (CSV)</a>
          </p>
          <table class="rejections">
            <caption class="sr-only">Linhas rejeitadas e motivos</caption>
            <thead>
              <tr>
                <th scope="col">Linha</th>
                <th scope="col">Conteúdo</th>
                <th scope="col">Motivos</th>
              </tr>
            </thead>
            <tbody>
              {rejections.map((r) => (
                <tr key={r.line}>
                  <td>{r.line}</td>
                  <td>
                    <code>{r.raw}</code>
                  </td>
                  <td>
                    <ul>
                      {r.reasons.map((reason, i) => (
                        <li key={i}>{String(reason.message ?? reason.code)}</li>
                      ))}
                    </ul>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

/** The "+" of the seed: a new group from a CSV file, with the model to download. */
export function GroupImport({ onDone }: { onDone: () => void }) {
  const [importId, setImportId] = useState<string>();
  const [error, setError] = useState<string>();
  const [kind, setKind] = useState('dialer');
  const [created, setCreated] = useState<string>();
  /** "Utilizar contatos Omni": a broadcast group from all the company's contacts, no file. */
  const fromCompanyContacts = async () => {
    setError(undefined);
    const name = (document.getElementById('group-name') as HTMLInputElement).value;
    const { data, error: problem } = await api.POST('/v1/contact-groups/from-company-contacts', { body: { name } });
    if (!data) {
      setError(problemText(problem));
      return;
    }
    setCreated(`Grupo "${data.name}" criado com ${formatNumber(data.contactCount)} contato(s) Omni.`);
    onDone();
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const { data, error: problem } = await upload<{ group: Schemas['ContactGroup']; import: Import }>('/v1/contact-groups', form);
    if (!data) {
      setError(problemText(problem));
      return;
    }
    setImportId(data.import.id);
    onDone();
  };
  return (
    <section class="panel" aria-labelledby="import-title">
      <h2 id="import-title">Novo grupo de contatos</h2>
      <p>
        Envie um arquivo CSV separado por ";" com a coluna <code>nome</code> e até 10 telefones.{' '}
        <a href="/v1/contact-groups/template.csv" download>
          Baixar modelo (CSV)
        </a>
      </p>
      <form onSubmit={submit} class="grid-form">
        <label for="group-name">Nome do grupo</label>
        <input id="group-name" name="name" required maxLength={120} />
        <label for="group-kind">Tipo</label>
        <select id="group-kind" name="kind" value={kind} onChange={(e) => setKind((e.currentTarget as HTMLSelectElement).value)}>
          <option value="dialer">Discador</option>
          <option value="broadcast">Broadcast</option>
        </select>
        <label for="group-policy">Telefones inválidos</label>
        <select id="group-policy" name="phonePolicy">
          <option value="reject_row">Rejeitar a linha</option>
          <option value="drop_invalid">Manter a linha com os telefones válidos</option>
        </select>
        <label for="group-file">Arquivo CSV</label>
        <input id="group-file" name="file" type="file" accept=".csv,text/csv" required />
        <button type="submit">Importar</button>
        {kind === 'broadcast' && (
          <button type="button" class="secondary" onClick={fromCompanyContacts}>
            Utilizar contatos Omni
          </button>
        )}
      </form>
      {created && <Notice kind="ok">{created}</Notice>}
      {error && <Notice kind="error">{error}</Notice>}
      {importId && <ImportProgress importId={importId} />}
    </section>
  );
}
