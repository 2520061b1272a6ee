import { useI18n } from '../i18n/i18n.tsx';
import { useLiveStatus } from '../store/CityContext.tsx';

export function LiveIndicator() {
  const status = useLiveStatus();
  const { t } = useI18n();
  const text = status === 'live' ? t('live.live') : status === 'reconnecting' ? t('live.reconnecting') : status === 'offline' ? t('live.offline') : t('live.connecting');
  return (
    <span className={`cbd-live cbd-live--${status}`} data-testid="live-indicator" data-status={status} title={t('live.title')} role="status">
      <span className="cbd-live__dot" aria-hidden />
      {text}
    </span>
  );
}
