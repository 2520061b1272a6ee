import type { Session } from '../api/types.ts';
import type { ViewId } from '../App.tsx';
import { useNames } from '../config/ConfigContext.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import type { MessageKey } from '../i18n/messages.ts';
import { useLiveAlerts } from '../store/CityContext.tsx';
import { navigate } from '../util/router.ts';
import { LangSwitch } from './LangSwitch.tsx';
import { LiveIndicator } from './LiveIndicator.tsx';

const NAV_KEYS: Record<ViewId, MessageKey> = {
  dispatch: 'nav.dispatch',
  field: 'nav.field',
  audit: 'nav.audit',
  dashboard: 'nav.dashboard',
};

export function TopBar({ session, views, current, onLogout }: { session: Session; views: ViewId[]; current: string; onLogout: () => void }) {
  const { t, lang } = useI18n();
  const names = useNames();
  const alerts = useLiveAlerts();
  return (
    <header className="cbd-topbar" data-testid="topbar">
      <div className="cbd-topbar__brand">
        <span className="cbd-logo" aria-hidden />
        <span className="cbd-topbar__title">{t('app.title')}</span>
        <span className="cbd-topbar__short" hidden>
          {t('app.short')}
        </span>
      </div>
      <nav className="cbd-topbar__nav" aria-label="main">
        {views.map((v) => (
          <a
            key={v}
            href={`/${v}`}
            data-testid={`nav-${v}`}
            className={v === current ? 'active' : ''}
            aria-current={v === current ? 'page' : undefined}
            onClick={(e) => {
              e.preventDefault();
              navigate(`/${v}`);
            }}
          >
            {t(NAV_KEYS[v])}
          </a>
        ))}
      </nav>
      <div className="cbd-topbar__right">
        <LiveIndicator />
        <span className="cbd-user" data-testid="current-user" data-role={session.user.role} data-agency={session.user.agency}>
          <strong>{localName(session.user.displayName, lang) ?? session.user.username}</strong>
          <small>
            {names.role(session.user.role)} · {names.agency(session.user.agency)}
          </small>
        </span>
        <LangSwitch />
        <button className="btn btn--ghost" data-testid="logout" onClick={onLogout}>
          {t('nav.logout')}
        </button>
      </div>
      {alerts.length > 0 && (
        <div className="cbd-alerts" data-testid="live-alerts">
          {alerts.map((a) => (
            <div key={a.id} className="cbd-alert" role="alert">
              {a.message}
            </div>
          ))}
        </div>
      )}
    </header>
  );
}

/** Demo accounts are named "中文 · English"; show the half in the reader's language. */
function localName(displayName: string | undefined, lang: 'zh' | 'en'): string | undefined {
  if (!displayName) return undefined;
  const parts = displayName.split(' · ');
  if (parts.length !== 2) return displayName;
  const [a, b] = parts as [string, string];
  const aIsChinese = /[\u4e00-\u9fff]/.test(a);
  return lang === 'zh' ? (aIsChinese ? a : b) : aIsChinese ? b : a;
}
