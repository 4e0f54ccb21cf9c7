import { useEffect, useState } from 'preact/hooks';
import { api, problemText, type Schemas } from '../api/client';
import { ManualControls } from '../components/manual-controls';
import { Badge, Notice } from '../components/status';
import { formatDateTime, formatNumber, formatPercent } from '../format';
import { BroadcastCampaignForm, SendForm } from './broadcast-forms';

type Channel = Schemas['WhatsAppChannel'];
type Template = Schemas['WhatsAppTemplate'];
type Campaign = Schemas['BroadcastCampaign'];
type Send = Schemas['BroadcastSend'];
type Monitor = Schemas['BroadcastMonitor'];

function Templates({ channel }: { channel: Channel }) {
  const [items, setItems] = useState<Template[]>([]);
  const [note, setNote] = useState<string>();
  const load = () => api.GET('/v1/whatsapp/channels/{id}/templates', { params: { path: { id: channel.id } } }).then((r) => setItems(r.data?.items ?? []));
  useEffect(() => {
    load();
  }, [channel.id]);
  const sync = async () => {
    const { error } = await api.POST('/v1/whatsapp/channels/{id}/templates/sync', { params: { path: { id: channel.id } } });
    setNote(error ? problemText(error) : 'Modelos sincronizados com a Meta.');
    load();
  };
  return (
    <section class="panel" aria-label={`Modelos do canal ${channel.name}`}>
      <h3>Modelos (HSM) de {channel.name}</h3>
      <button type="button" class="secondary" onClick={sync}>
        Sincronizar modelos
      </button>
      {note && <Notice kind="ok">{note}</Notice>}
      <table class="data">
        <caption class="sr-only">Modelos do canal</caption>
        <thead>
          <tr>
            <th scope="col">Nome</th>
            <th scope="col">Idioma</th>
            <th scope="col">Categoria</th>
            <th scope="col">Status</th>
            <th scope="col">Variáveis</th>
          </tr>
        </thead>
        <tbody>
          {items.map((t) => (
            <tr key={`${t.name}-${t.language}`}>
              <td>{t.name}</td>
              <td>{t.language}</td>
              <td>{t.category}</td>
              <td>{t.status}</td>
              <td>{t.placeholders.join(', ') || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The delivery funnel: sent → delivered → read, and the failures by their WhatsApp code. */
function Funnel({ m }: { m: Monitor }) {
  const t = m.totals;
  const steps: [string, number][] = [
    ['Total', t.total],
    ['Enviadas', t.sent + t.delivered + t.read],
    ['Entregues', t.delivered + t.read],
    ['Lidas', t.read],
    ['Falhas', t.failed],
    ['Ignoradas', t.skipped],
  ];
  return (
    <>
      <div class="cards">
        {steps.map(([name, value]) => (
          <div class="card" key={name}>
            <div>{name}</div>
            <div class="value">{formatNumber(value)}</div>
          </div>
        ))}
      </div>
      <p>
        Entrega {formatPercent(m.rates.delivery)} · Leitura {formatPercent(m.rates.read)} · Falha {formatPercent(m.rates.failure)} ·{' '}
        {formatNumber(Math.round(m.currentMps))} msg/s
      </p>
      {t.failedByCode.length > 0 && (
        <ul aria-label="Falhas por motivo">
          {t.failedByCode.map((f) => (
            <li key={String(f.code)}>
              {f.code ?? '—'} {f.title ?? ''}: {formatNumber(f.count)}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

const sendCommands = [
  { command: 'start', label: 'Iniciar', confirm: 'Iniciar o envio agora?', when: ['scheduled'] },
  { command: 'pause', label: 'Pausar', confirm: 'Pausar o envio?', when: ['running', 'waiting'] },
  { command: 'resume', label: 'Retomar', confirm: 'Retomar o envio?', when: ['paused'] },
  {
    command: 'stop',
    label: 'Parar',
    confirm: 'Parar o envio de vez? O que não foi enviado fica como ignorado.',
    when: ['scheduled', 'running', 'paused', 'waiting'],
  },
] as const;

function SendMonitor({ send }: { send: Send }) {
  const [m, setM] = useState<Monitor>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    const source = new EventSource(`/v1/broadcast/sends/${send.id}/monitor/stream`);
    source.addEventListener('monitor', (e) => setM(JSON.parse((e as MessageEvent).data) as Monitor));
    return () => source.close();
  }, [send.id]);
  const status = (m?.state ?? send.status) as Send['status'];
  const run = async (command: (typeof sendCommands)[number]['command']) => {
    const { error: problem } = await api.POST(`/v1/broadcast/sends/{id}/${command}`, { params: { path: { id: send.id } } });
    setError(problem ? problemText(problem) : undefined);
  };
  return (
    <section class="panel" aria-label={`Envio ${send.template.name}`}>
      <h3>
        Envio {send.template.name} ({send.template.language}) <Badge value={status} />
      </h3>
      <ManualControls legend="Controles do envio" specs={sendCommands} state={status} run={run} />
      {error && <Notice kind="error">{error}</Notice>}
      {m ? <Funnel m={m} /> : <p aria-busy="true">Conectando…</p>}
    </section>
  );
}

function Sends({ campaign, channel }: { campaign: Campaign; channel?: Channel }) {
  const [sends, setSends] = useState<Send[]>([]);
  const [creating, setCreating] = useState(false);
  const load = () => api.GET('/v1/broadcast/campaigns/{id}/sends', { params: { path: { id: campaign.id } } }).then((r) => setSends(r.data?.items ?? []));
  useEffect(() => {
    setCreating(false);
    load();
  }, [campaign.id]);
  return (
    <>
      <div class="title-row">
        <h2>Envios de {campaign.name}</h2>
        <button type="button" onClick={() => setCreating(!creating)} aria-expanded={creating}>
          Novo envio
        </button>
      </div>
      {creating && (
        <SendForm
          campaign={campaign}
          channel={channel}
          onCreated={() => {
            setCreating(false);
            load();
          }}
        />
      )}
      {sends.length === 0 && <p>Nenhum envio nesta campanha.</p>}
      {sends.map((s) => (
        <SendMonitor key={s.id} send={s} />
      ))}
    </>
  );
}

/** Broadcast: WhatsApp channels and their templates, campaigns and the live funnel of their sends. */
export function Broadcast() {
  const [channels, setChannels] = useState<Channel[]>([]);
  const [campaigns, setCampaigns] = useState<Campaign[]>([]);
  const [channel, setChannel] = useState<Channel>();
  const [campaign, setCampaign] = useState<Campaign>();
  const [creating, setCreating] = useState(false);
  useEffect(() => {
    api.GET('/v1/whatsapp/channels').then((r) => setChannels(r.data?.items ?? []));
    api.GET('/v1/broadcast/campaigns', { params: { query: { limit: 100 } } }).then((r) => setCampaigns(r.data?.items ?? []));
  }, []);
  return (
    <>
      <h1>Broadcast</h1>
      <h2>Canais WhatsApp</h2>
      <table class="data">
        <caption class="sr-only">Canais WhatsApp</caption>
        <thead>
          <tr>
            <th scope="col">Canal</th>
            <th scope="col">Número</th>
            <th scope="col" class="num">
              Limite (msg/s)
            </th>
            <th scope="col">Modelos sincronizados</th>
          </tr>
        </thead>
        <tbody>
          {channels.map((c) => (
            <tr key={c.id}>
              <td>
                <button type="button" class="link" onClick={() => setChannel(c)}>
                  {c.name}
                </button>
              </td>
              <td>{c.displayNumber}</td>
              <td class="num">{formatNumber(c.mpsLimit)}</td>
              <td>{formatDateTime(c.templatesSyncedAt)}</td>
            </tr>
          ))}
          {channels.length === 0 && (
            <tr>
              <td colSpan={4}>Nenhum canal cadastrado.</td>
            </tr>
          )}
        </tbody>
      </table>
      {channel && <Templates channel={channel} />}
      <div class="title-row">
        <h2>Campanhas</h2>
        <button type="button" onClick={() => setCreating(!creating)} aria-expanded={creating}>
          Nova campanha de broadcast
        </button>
      </div>
      {creating && (
        <BroadcastCampaignForm
          channels={channels}
          onCreated={(c) => {
            setCreating(false);
            setCampaigns([c, ...campaigns]);
            setCampaign(c);
          }}
        />
      )}
      <ul>
        {campaigns.map((c) => (
          <li key={c.id}>
            <button type="button" class="link" onClick={() => setCampaign(c)} aria-pressed={campaign?.id === c.id}>
              {c.name}
            </button>{' '}
            (criada em {formatDateTime(c.createdAt)})
          </li>
        ))}
        {campaigns.length === 0 && <li>Nenhuma campanha de broadcast.</li>}
      </ul>
      {campaign && <Sends campaign={campaign} channel={channels.find((c) => c.id === campaign.channelId)} />}
    </>
  );
}
