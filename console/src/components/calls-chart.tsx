import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface ChartPoint {
  at: number;
  callsPerMinute: number;
  answered: number;
  notAnswered: number;
}

const series: uPlot.Series[] = [
  {},
  { label: 'Chamadas/min', stroke: '#0b4f8a', width: 2 },
  { label: 'Atendidas (total)', stroke: '#13612e', width: 2 },
  { label: 'Não atendidas (total)', stroke: '#a1121b', width: 2, dash: [6, 4] },
];

const clock = new Intl.DateTimeFormat('pt-BR', { timeStyle: 'medium', timeZone: 'America/Sao_Paulo' });

/** Calls per minute and outcomes over time, one point per monitor event (uPlot). */
export function CallsChart({ points }: { points: ChartPoint[] }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot>();
  useEffect(() => {
    if (!host.current) return;
    plot.current = new uPlot(
      {
        width: Math.min(host.current.clientWidth || 900, 1200),
        height: 240,
        series,
        // `space`: room for a whole "09:09:10" between ticks, so the labels never overlap.
        axes: [{ space: 90, values: (_u, ticks) => ticks.map((t) => clock.format(new Date(t * 1000))) }, {}],
      },
      [[], [], [], []],
      host.current,
    );
    return () => plot.current?.destroy();
  }, []);
  useEffect(() => {
    plot.current?.setData([
      points.map((p) => p.at / 1000),
      points.map((p) => p.callsPerMinute),
      points.map((p) => p.answered),
      points.map((p) => p.notAnswered),
    ]);
  }, [points]);
  return (
    <figure class="panel">
      <figcaption>Chamadas por minuto e resultados</figcaption>
      <div ref={host} role="img" aria-label="Gráfico de chamadas por minuto e resultados ao longo do tempo" />
    </figure>
  );
}
