import { useEffect, useState } from 'preact/hooks';
import { api, problemText, type paths } from '../api/client';
import { Notice } from '../components/status';
import { formatDateTime } from '../format';

type Question = paths['/v1/mercadolivre/questions']['get']['responses'][200]['content']['application/json']['items'][number];

/** "3 h 12 min" left, or how long ago the SLA ran out. */
function slaClock(deadline: string, now: number): string {
  const ms = Date.parse(deadline) - now;
  const minutes = Math.floor(Math.abs(ms) / 60_000);
  const text = minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
  return ms >= 0 ? `faltam ${text}` : `vencido há ${text}`;
}

function AnswerBox({ question, onAnswered }: { question: Question; onAnswered: () => void }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string>();
  const id = `answer-${question.id}`;
  const send = async (event: Event) => {
    event.preventDefault();
    const { data, error: problem } = await api.POST('/v1/mercadolivre/questions/{id}/answer', { params: { path: { id: question.id } }, body: { text } });
    if (data) onAnswered();
    else setError(problemText(problem));
  };
  return (
    <form onSubmit={send}>
      <label for={id}>Resposta</label>
      <textarea id={id} rows={3} cols={80} value={text} onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)} />
      {error && <Notice kind="error">{error}</Notice>}
      <button type="submit" disabled={!text.trim()}>
        Responder
      </button>
    </form>
  );
}

/** Mercado Livre: the questions waiting for an answer, each with its SLA clock and an answer box. */
export function MercadoLivreInbox() {
  const [items, setItems] = useState<Question[]>([]);
  const [now, setNow] = useState(Date.now());
  const load = () =>
    api
      .GET('/v1/mercadolivre/questions', { params: { query: { status: 'UNANSWERED', sort: 'askedAt', limit: 50 } } })
      .then((r) => setItems(r.data?.items ?? []));
  useEffect(() => {
    load();
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, []);
  return (
    <>
      <h1>Mercado Livre — perguntas aguardando resposta</h1>
      {items.length === 0 && <p>Nenhuma pergunta aguardando resposta.</p>}
      {items.map((q) => (
        <article class="panel" key={q.id} aria-label={`Pergunta sobre ${q.itemTitle ?? q.itemId}`}>
          <h2>{q.itemTitle ?? q.itemId}</h2>
          <p>{q.text}</p>
          <p class={q.slaBreached ? 'error' : undefined}>
            Perguntada em {formatDateTime(q.askedAt)} · SLA: {slaClock(q.slaDeadline, now)}
          </p>
          <AnswerBox question={q} onAnswered={load} />
        </article>
      ))}
    </>
  );
}
