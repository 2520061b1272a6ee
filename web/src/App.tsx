import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { api } from './api/client.ts';
import type { Role, Session } from './api/types.ts';
import { TopBar } from './components/TopBar.tsx';
import { ConfigProvider } from './config/ConfigContext.tsx';
import { useI18n } from './i18n/i18n.tsx';
import { CityProvider } from './store/CityContext.tsx';
import { navigate, useLocation } from './util/router.ts';
import { LoginView } from './views/LoginView.tsx';

// Each view is its own chunk: a field supervisor's phone never downloads ECharts.
const DispatcherView = lazy(() => import('./views/dispatcher/DispatcherView.tsx'));
const SupervisorView = lazy(() => import('./views/supervisor/SupervisorView.tsx'));
const AuditorView = lazy(() => import('./views/auditor/AuditorView.tsx'));
const DashboardView = lazy(() => import('./views/dashboard/DashboardView.tsx'));

export type ViewId = 'dispatch' | 'field' | 'audit' | 'dashboard';

export const VIEWS_BY_ROLE: Record<Role, ViewId[]> = {
  dispatcher: ['dispatch', 'dashboard'],
  supervisor: ['field', 'dashboard'],
  auditor: ['audit', 'dashboard'],
  admin: ['dispatch', 'field', 'audit', 'dashboard'],
};

export function viewsFor(role: string): ViewId[] {
  return VIEWS_BY_ROLE[role as Role] ?? ['dashboard'];
}

function viewOfPath(path: string): ViewId | 'bigscreen' | null {
  const first = path.split('/')[1] ?? '';
  if (first === 'bigscreen') return 'bigscreen';
  return (['dispatch', 'field', 'audit', 'dashboard'] as const).find((v) => v === first) ?? null;
}

export function App() {
  const [session, setSession] = useState<Session | null>(api.current);
  const { path } = useLocation();

  const logout = useCallback(() => {
    api.setSession(null);
    setSession(null);
    navigate('/login', { replace: true });
  }, []);

  useEffect(() => api.onUnauthorized(logout), [logout]);

  if (!session) {
    return (
      <LoginView
        onLogin={(s) => {
          setSession(s);
          const wanted = viewOfPath(location.pathname);
          const allowed = viewsFor(s.user.role);
          navigate(wanted && (wanted === 'bigscreen' || allowed.includes(wanted)) ? location.pathname + location.search : `/${allowed[0]}`, { replace: true });
        }}
      />
    );
  }

  const allowed = viewsFor(session.user.role);
  const view = viewOfPath(path);
  const effective = view === 'bigscreen' ? 'bigscreen' : view && allowed.includes(view) ? view : allowed[0]!;
  if (effective !== view) queueMicrotask(() => navigate(`/${effective}`, { replace: true }));

  return (
    <ConfigProvider fallback={(error, retry) => <Splash error={error} retry={retry} />}>
      <CityProvider key={session.token}>
        <div className={`cbd-app cbd-app--${effective}`}>
          {effective !== 'bigscreen' && <TopBar session={session} views={allowed} current={effective} onLogout={logout} />}
          <main className="cbd-main">
            <Suspense fallback={<Splash />}>
              {effective === 'dispatch' && <DispatcherView session={session} />}
              {effective === 'field' && <SupervisorView session={session} />}
              {effective === 'audit' && <AuditorView />}
              {(effective === 'dashboard' || effective === 'bigscreen') && <DashboardView bigscreen={effective === 'bigscreen'} />}
            </Suspense>
          </main>
        </div>
      </CityProvider>
    </ConfigProvider>
  );
}

function Splash({ error, retry }: { error?: string | null; retry?: () => void }) {
  const { t } = useI18n();
  return (
    <div className="cbd-splash" data-testid="splash">
      {error ? (
        <>
          <p className="cbd-error">{error}</p>
          {retry && (
            <button className="btn" onClick={retry}>
              {t('common.retry')}
            </button>
          )}
        </>
      ) : (
        <p>{t('common.loading')}</p>
      )}
    </div>
  );
}
