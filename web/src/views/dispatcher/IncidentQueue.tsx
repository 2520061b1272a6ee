import { useMemo, useState } from 'react';
import type { Incident } from '../../api/types.ts';
import { PriorityBadge, StatusBadge } from '../../components/Badges.tsx';
import { useNames } from '../../config/ConfigContext.tsx';
import { useI18n } from '../../i18n/i18n.tsx';
import { useCity, useStoreVersion } from '../../store/CityContext.tsx';
import { formatDuration } from '../../util/format.ts';
import { useNow } from '../../util/hooks.ts';
import { ageMs, compareQueue, isActive, isOverdue, labelOf } from '../../util/incidents.ts';

/** Rows rendered at once; the rest are counted. A dispatcher works the top of the queue, not row 4,000. */
const MAX_ROWS = 200;

export function IncidentQueue({ selectedId, onSelect, agency }: { selectedId: string | null; onSelect: (id: string) => void; agency: string }) {
  const { store } = useCity();
  const version = useStoreVersion(400);
  const now = useNow(1000);
  const { t } = useI18n();
  const names = useNames();
  const [mine, setMine] = useState(false);

  const active = useMemo(() => {
    const list: Incident[] = [];
    for (const i of store.incidents.values()) if (isActive(i) && (!mine || i.agencies.includes(agency as Incident['agencies'][number]))) list.push(i);
    return list.sort(compareQueue);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [store, version, mine, agency]);

  const overdue = active.reduce((n, i) => n + (isOverdue(i, now) ? 1 : 0), 0);

  return (
    <aside className="queue" data-testid="incident-queue">
      <header className="queue__head">
        <h2>{t('queue.title')}</h2>
        <div className="queue__counts">
          <span data-testid="queue-count">{t('queue.count', { n: active.length })}</span>
          {overdue > 0 && (
            <span className="queue__overdue" data-testid="queue-overdue-count">
              {t('queue.overdueCount', { n: overdue })}
            </span>
          )}
        </div>
        <label className="queue__filter">
          <input type="checkbox" checked={mine} onChange={(e) => setMine(e.target.checked)} data-testid="queue-mine" />
          {t('queue.mine')}
        </label>
      </header>
      <ol className="queue__list">
        {active.length === 0 && <li className="queue__empty">{t('queue.empty')}</li>}
        {active.slice(0, MAX_ROWS).map((i) => {
          const late = isOverdue(i, now);
          return (
            <li key={i.id}>
              <button
                className={`qitem ${i.id === selectedId ? 'qitem--selected' : ''} ${late ? 'qitem--overdue' : ''}`}
                data-testid="queue-item"
                data-id={i.id}
                data-priority={i.priority}
                data-status={i.status}
                data-overdue={late ? 'true' : 'false'}
                onClick={() => onSelect(i.id)}
              >
                <div className="qitem__row">
                  <PriorityBadge priority={i.priority} />
                  <strong className="qitem__type">{names.type(i.type)}</strong>
                  <span className="qitem__age">{formatDuration(ageMs(i, now), t)}</span>
                </div>
                <div className="qitem__row qitem__row--sub">
                  <span className="qitem__label">{labelOf(i)}</span>
                  <StatusBadge status={i.status} />
                  {late && (
                    <span className="qitem__late" data-testid="overdue-badge">
                      {t('queue.overdue')}
                    </span>
                  )}
                </div>
                {i.address && <div className="qitem__addr">{i.address}</div>}
              </button>
            </li>
          );
        })}
        {active.length > MAX_ROWS && <li className="queue__more">{t('common.more', { n: active.length - MAX_ROWS })}</li>}
      </ol>
    </aside>
  );
}
