import { useEffect, useState } from 'preact/hooks';
import { api, problemText, type Schemas } from '../api/client';
import { CallsChart, type ChartPoint } from '../components/calls-chart';
import { type ControlSpec, ManualControls } from '../components/manual-controls';
import { Badge, Notice } from '../components/status';
import { num, TableHead } from '../components/table-head';
import { formatDateTime, formatNumber, formatPercent } from '../format';

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
    setLive(undefined);
    setPoints([]);
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
    // Before the first call there is nothing to estimate from.
    ['Término estimado', duration(m.status === 'draft' || m.status === 'scheduled' ? null : m.etaSeconds)],
  ];
  return <FigureCards figures={cards} />;
}

/** Named figures as the monitor's cards. */
function FigureCards({ figures }: { figures: [string, string][] }) {
  return (
    <div class="cards">
      {figures.map(([name, value]) => (
        <div class="card" key={name}>
          <div>{name}</div>
          <div class="value">{value}</div>
        </div>
      ))}
    </div>
  );
}

const AGENT_STATE_NAMES: Record<string, string> = {
  available: 'Disponíveis',
  on_call: 'Em ligação',
  wrap_up: 'Pós-atendimento',
  paused: 'Em pausa',
  offline: 'Deslogados',
};
const ABANDON_WINDOWS: [keyof Monitor['agents']['abandonRate'], string][] = [
  ['lastMinute', '1 min'],
  ['last15Minutes', '15 min'],
  ['today', 'Hoje'],
  ['campaign', 'Campanha'],
];
const seconds = (s: number | null) => (s == null ? '—' : s < 60 ? `${formatNumber(Math.round(s))} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);

/** The agents of an agent-connected campaign (issue 12): states, the queue, pacing and abandons. */
function AgentsPanel({ a }: { a: Monitor['agents'] }) {
  // The seed's order first; a state the API adds later comes after, under its own name.
  const known = Object.keys(AGENT_STATE_NAMES);
  const states = Object.entries(a.byState as Record<string, number>).sort(
    ([x], [y]) => (known.indexOf(x) + 1 || known.length + 1) - (known.indexOf(y) + 1 || known.length + 1),
  );
  const figures: [string, string][] = [
    ['Em espera', formatNumber(a.waitingForAgent)],
    ['Maior espera', seconds(a.longestWaitSeconds)],
    ['Nível de discagem', a.dialLevel == null ? '—' : formatNumber(Math.round(a.dialLevel * 100) / 100)],
    ['Ocupação', formatPercent(a.occupancy)],
    ['TMA/ASA', seconds(a.averageSpeedOfAnswerSeconds)],
  ];
  return (
    <section class="panel" aria-labelledby="agents-title">
      <h2 id="agents-title">Agentes</h2>
      <table class="data">
        <caption>Agentes por estado</caption>
        <thead>
          <tr>
            {states.map(([state]) => (
              <th scope="col" class="num" key={state}>
                {AGENT_STATE_NAMES[state] ?? state}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          <tr>
            {states.map(([state, n]) => (
              <td class="num" key={state}>
                {formatNumber(n)}
              </td>
            ))}
          </tr>
        </tbody>
      </table>
      <FigureCards figures={figures} />
      <table class="data">
        <caption>Taxa de abandono</caption>
        <TableHead columns={['Período', num('Atendidas'), num('Abandonadas'), num('Taxa')]} />
        <tbody>
          {ABANDON_WINDOWS.map(([key, name]) => (
            <tr key={key}>
              <th scope="row">{name}</th>
              <td class="num">{formatNumber(a.abandonRate[key].answered)}</td>
              <td class="num">{formatNumber(a.abandonRate[key].abandoned)}</td>
              <td class="num">{formatPercent(a.abandonRate[key].rate)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Monitoramento of one campaign, with the manual controls and their confirmations. */
export function CampaignMonitor({ id }: { id: string }) {
  const [campaign, setCampaign] = useState<Campaign>();
  const [error, setError] = useState<string>();
  const { live, points } = useMonitorStream(id);
  useEffect(() => {
    // Another campaign's figures must not stay on screen while this one loads.
    setCampaign(undefined);
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
        {status === 'scheduled' && campaign.startAt && (
          <span data-testid="scheduled-start"> Início agendado: {formatDateTime(campaign.startAt, { seconds: true })}</span>
        )}
      </p>
      <ManualControls legend="Controles manuais" specs={commands} state={status} run={run} />
      {error && <Notice kind="error">{error}</Notice>}
      {live ? <Cards m={live} /> : <p aria-busy="true">Conectando ao monitoramento…</p>}
      {live && campaign.agentIds.length > 0 && <AgentsPanel a={live.agents} />}
      <CallsChart points={points} />
    </>
  );
}
