import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useRoute } from './router';
import { Broadcast } from './screens/broadcast';
import { Campaigns } from './screens/campaigns';
import { Groups } from './screens/groups';
import { MercadoLivreInbox } from './screens/mercadolivre';
import { CampaignMonitor } from './screens/monitor';
import { Reports } from './screens/reports';
import { AcceptInvite, SignIn } from './screens/sign-in';
import { Strategies } from './screens/strategies';
import { loadSession, type Session, signOut } from './session';

const screens = [
  { path: 'grupos', label: 'Grupos de Contatos' },
  { path: 'estrategias', label: 'Estratégias' },
  { path: 'campanhas', label: 'Campanhas' },
  { path: 'broadcast', label: 'Broadcast' },
  { path: 'mercadolivre', label: 'Mercado Livre' },
  { path: 'relatorios', label: 'Relatórios' },
];

function Screen({ parts }: { parts: string[] }) {
  switch (parts[0]) {
    case 'campanhas':
      return parts[1] ? <CampaignMonitor id={parts[1]} /> : <Campaigns />;
    case 'broadcast':
      return <Broadcast />;
    case 'mercadolivre':
      return <MercadoLivreInbox />;
    case 'relatorios':
      return <Reports />;
    case 'estrategias':
      return <Strategies />;
    default:
      return <Groups />;
  }
}

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const parts = useRoute();
  useEffect(() => {
    loadSession().then(setSession);
  }, []);
  if (parts[0] === 'convite' && parts[1]) {
    return (
      <AcceptInvite
        token={parts[1]}
        onSignedIn={(s) => {
          setSession(s);
          location.hash = '#/grupos';
        }}
      />
    );
  }
  if (session === undefined) return <p aria-busy="true">Carregando…</p>;
  if (session === null) return <SignIn onSignedIn={setSession} />;
  const current = parts[0] ?? 'grupos';
  return (
    <>
      <header class="top">
        <span class="brand">Omni Campaigns</span>
        <nav aria-label="Principal">
          {screens.map((s) => (
            <a key={s.path} href={`#/${s.path}`} aria-current={current === s.path ? 'page' : undefined}>
              {s.label}
            </a>
          ))}
        </nav>
        <span class="who">
          {session.user.name} · {session.tenant.name}
        </span>
        <button type="button" class="link" onClick={() => signOut().then(() => setSession(null))}>
          Sair
        </button>
      </header>
      <main>
        <Screen parts={parts} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app') as HTMLElement);
