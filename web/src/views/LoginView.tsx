import { useState, type FormEvent } from 'react';
import { api, errorText } from '../api/client.ts';
import type { Session } from '../api/types.ts';
import { LangSwitch } from '../components/LangSwitch.tsx';
import { useI18n } from '../i18n/i18n.tsx';

const DEMO_USERS = ['dispatcher.police', 'dispatcher.fire', 'supervisor.ems', 'supervisor.traffic', 'auditor', 'admin'];

export function LoginView({ onLogin }: { onLogin: (s: Session) => void }) {
  const { t } = useI18n();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLogin(await api.login(username.trim(), password));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="cbd-login" data-testid="login-view">
      <div className="cbd-login__lang">
        <LangSwitch />
      </div>
      <form className="cbd-login__card" onSubmit={submit}>
        <div className="cbd-login__brand">
          <span className="cbd-logo" aria-hidden />
          <div>
            <h1>{t('app.title')}</h1>
            <p>{t('login.subtitle')}</p>
          </div>
        </div>
        <label>
          {t('login.username')}
          <input data-testid="login-username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required autoFocus />
        </label>
        <label>
          {t('login.password')}
          <input data-testid="login-password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        {error && (
          <p className="cbd-error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button className="btn btn--primary btn--block" data-testid="login-submit" disabled={busy}>
          {busy ? t('login.busy') : t('login.submit')}
        </button>
        <div className="cbd-login__demo">
          <span>{t('login.demo')}</span>
          <div>
            {DEMO_USERS.map((u) => (
              <button
                type="button"
                key={u}
                className="chip"
                onClick={() => {
                  setUsername(u);
                  setPassword('demo');
                }}
              >
                {u}
              </button>
            ))}
          </div>
        </div>
      </form>
    </div>
  );
}
