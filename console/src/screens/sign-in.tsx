import { useState } from 'preact/hooks';
import { api, fieldErrors, problemText, setCsrfToken } from '../api/client';
import type { Session } from '../session';

/** Entrar: e-mail and password; a wrong pair and the throttle answer are said plainly. */
export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    const {
      data,
      error: problem,
      response,
    } = await api.POST('/v1/auth/session', {
      body: { email: String(form.get('email')), password: String(form.get('password')) },
    });
    setBusy(false);
    if (data) {
      setCsrfToken(data.csrfToken);
      onSignedIn(data);
      return;
    }
    if (response.status === 429) setError('Muitas tentativas sem sucesso. Aguarde alguns minutos e tente de novo.');
    else if (response.status === 401) setError('E-mail ou senha incorretos.');
    else setError(Object.values(fieldErrors(problem))[0] ?? problemText(problem));
  };
  return (
    <main class="auth-card">
      <h1>Omni Campaigns</h1>
      <p>Entre com seu e-mail e senha.</p>
      <form onSubmit={submit} noValidate>
        <label for="email">E-mail</label>
        <input id="email" name="email" type="email" autocomplete="username" required />
        <label for="password">Senha</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Entrar
        </button>
      </form>
    </main>
  );
}

/** Convite: the invited user chooses a password (10+ characters) and is signed in. */
export function AcceptInvite({ token, onSignedIn }: { token: string; onSignedIn: (s: Session) => void }) {
  const [error, setError] = useState<string>();
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const password = String(form.get('password'));
    if (password !== String(form.get('confirm'))) {
      setError('As senhas não conferem.');
      return;
    }
    const { data, error: problem, response } = await api.POST('/v1/auth/invites/accept', { body: { token, password } });
    if (data) {
      setCsrfToken(data.csrfToken);
      onSignedIn(data);
      return;
    }
    if (response.status === 404) setError('Este convite não vale mais (usado ou expirado). Peça um novo ao administrador.');
    else if (fieldErrors(problem).password) setError('A senha precisa ter pelo menos 10 caracteres.');
    else setError(problemText(problem));
  };
  return (
    <main class="auth-card">
      <h1>Bem-vindo ao Omni Campaigns</h1>
      <p>Escolha sua senha para aceitar o convite.</p>
      <form onSubmit={submit} noValidate>
        <label for="password">Nova senha (mínimo 10 caracteres)</label>
        <input id="password" name="password" type="password" autocomplete="new-password" required minLength={10} />
        <label for="confirm">Repita a senha</label>
        <input id="confirm" name="confirm" type="password" autocomplete="new-password" required />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit">Aceitar convite e entrar</button>
      </form>
    </main>
  );
}
