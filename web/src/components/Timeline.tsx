import type { HistoryEntry } from '../api/types.ts';
import { useNames } from '../config/ConfigContext.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import { callSignsOf, describeEvent } from '../util/describeEvent.ts';
import { formatTime } from '../util/format.ts';

export function Timeline({ history, activeIndex, onPick }: { history: HistoryEntry[]; activeIndex?: number; onPick?: (index: number) => void }) {
  const i18n = useI18n();
  const names = useNames();
  const signs = callSignsOf(history);
  return (
    <ol className="timeline" data-testid="timeline">
      {history.map((h, idx) => {
        const detail = describeEvent(h, names, i18n, signs);
        return (
          <li
            key={`${h.position}-${idx}`}
            className={`timeline__item ${idx === activeIndex ? 'timeline__item--active' : ''} ${onPick ? 'timeline__item--pick' : ''}`}
            data-testid="timeline-item"
            data-type={h.type}
            onClick={onPick ? () => onPick(idx) : undefined}
          >
            <div className="timeline__time">{formatTime(h.occurredAt, i18n.locale)}</div>
            <div className="timeline__body">
              <div className="timeline__what">
                <strong>{i18n.tx(`event.${h.type}`, h.type)}</strong>
                {detail && <span className="timeline__detail"> {detail}</span>}
              </div>
              <div className="timeline__who">
                {h.actorName ?? h.actor ?? '—'}
                {h.role ? ` · ${names.role(String(h.role))}` : ''}
                {h.agency ? ` · ${names.agency(String(h.agency))}` : ''}
                {h.reason ? ` · ${i18n.t('common.reason')}: ${h.reason}` : ''}
              </div>
            </div>
          </li>
        );
      })}
    </ol>
  );
}
