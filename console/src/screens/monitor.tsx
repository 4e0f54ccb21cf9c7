import { useEffect, useState } from 'preact/hooks';
import { api, problemText, type Schemas } from '../api/client';
import { CallsChart, type ChartPoint } from '../components/calls-chart';
import { type ControlSpec, ManualControls } from '../components/manual-controls';
import { Badge, Notice } from '../components/status';
import { formatNumber, formatPercent } from '../format';

type Monitor = Schemas['DialerMonitor'];
type Campaign = Schemas['DialerCampaign'];
type Command = 'start' | 'pause' | 'resume' | 'stop';

const commands: ControlSpec<Command>[] = [
  { command: 'start', label: 'Iniciar', confirm: 'Iniciar a campanha agora?', when: ['draft', 'scheduled'] },
  { command: 'pause', label: 'Pausar', confirm: 'Pausar a campanha? As chamadas em curso terminam normalmente.', when: ['running'] },
  { command: 'resume', label: 'Retomar', confirm: 'Retomar a campanha?', when: ['paused'] },
  { command: 'stop', label: 'Encerrar', confirm: 'Encerrar a campanha? Ela não poderá ser retomada.', when: ['running', 'paused', 'scheduled'] },
];

const duration = (seconds: number | null) => {
  if (seconds == null) return '—';
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds % 3600) / 60);
  return h ? `${h} h ${m} min` : `${m} min`;
};

/** The monitor over Server-Sent Events; each event is also a point of the chart. */
function useMonitorStream(campaignId: string) {
  const [live, setLive] = useState<Monitor>();
  const [points, setPoints] = useState<ChartPoint[]>([]);
  useEffect(() => {
    const source = new EventSource(`/v1/dialer/campaigns/${campaignId}/monitor/stream?everyMs=1000`);
    source.addEventListener('monitor', (event) => {
      const m = JSON.parse((event as MessageEvent).data) as Monitor;
      setLive(m);
      const byOutcome = m.contacts.finishedByOutcome;
      const answered = byOutcome.answered ?? 0;
      const finished = Object.values(byOutcome).reduce((a, b) => a + b, 0);
      setPoints((prev) => [...prev.slice(-299), { at: Date.parse(m.at), callsPerMinute: m.callsPerMinute, answered, notAnswered: finished - answered }]);
    });
    return () => source.close();
  }, [campaignId]);
  return { live, points };
}

function Cards({ m }: { m: Monitor }) {
  const finished = Object.values(m.contacts.finishedByOutcome).reduce((a, b) => a + b, 0);
  const cards: [string, string][] = [
    ['Contatos pendentes', formatNumber(m.contacts.pending)],
    ['Em andamento', formatNumber(m.contacts.inProgress)],
    ['Finalizados', formatNumber(finished + m.contacts.exhausted + m.contacts.blocked)],
    ['Chamadas em curso / canais', `${formatNumber(m.callsInProgress)} / ${formatNumber(m.channels)}`],
    ['Taxa de atendimento', formatPercent(m.answerRate)],
    ['Uso das linhas', formatPercent(m.lineUtilisation)],
    ['Chamadas por minuto', formatNumber(m.callsPerMinute)],
    ['Término estimado', duration(m.etaSeconds)],
  ];
  return (
    <div class="cards">
      {cards.map(([name, value]) => (
        <div class="card" key={name}>
          <div>{name}</div>
          <div class="value">{value}</div>
        </div>
      ))}
    </div>
  );
}

/** Monitoramento of one campaign, with the manual controls and their confirmations. */
export function CampaignMonitor({ id }: { id: string }) {
  const [campaign, setCampaign] = useState<Campaign>();
  const [error, setError] = useState<string>();
  const { live, points } = useMonitorStream(id);
  useEffect(() => {
    api.GET('/v1/dialer/campaigns/{id}', { params: { path: { id } } }).then((r) => setCampaign(r.data));
  }, [id]);
  const status = live?.status ?? campaign?.status;
  const run = async (command: Command) => {
    setError(undefined);
    const { data, error: problem } = await api.POST(`/v1/dialer/campaigns/{id}/${command}`, { params: { path: { id } } });
    if (data) setCampaign(data);
    else setError(problemText(problem));
  };
  if (!campaign) return <p aria-busy="true">Carregando…</p>;
  return (
    <>
      <p>
        <a href="#/campanhas">← Campanhas</a>
      </p>
      <h1>Monitoramento: {campaign.name}</h1>
      <p>
        Status: <span data-testid="campaign-status">{status && <Badge value={status} />}</span> {live?.why && <span>— {live.why}</span>}
      </p>
      <ManualControls legend="Controles manuais" specs={commands} state={status} run={run} />
      {error && <Notice kind="error">{error}</Notice>}
      {live ? <Cards m={live} /> : <p aria-busy="true">Conectando ao monitoramento…</p>}
      <CallsChart points={points} />
    </>
  );
}
