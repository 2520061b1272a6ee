import { useState } from 'react';
import { useNames } from '../config/ConfigContext.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import { INCIDENT_SHAPES } from '../map/symbology.ts';
import { agencyColor, priorityColor } from '../util/colors.ts';
import { ShapeIcon } from './Badges.tsx';

const LEGEND_STATUSES = ['reported', 'triaged', 'dispatched', 'on_scene'] as const;

export function MapLegend() {
  const { t, tx } = useI18n();
  const names = useNames();
  const [open, setOpen] = useState(true);
  return (
    <div className={`legend ${open ? '' : 'legend--closed'}`} data-testid="map-legend">
      <button className="legend__toggle" onClick={() => setOpen(!open)} aria-expanded={open}>
        {t('map.legend')} {open ? '▾' : '▸'}
      </button>
      {open && (
        <div className="legend__body">
          <div className="legend__title">{t('map.incidents')}</div>
          <div className="legend__row">
            {names.priorities.map((p) => (
              <span key={p} className="legend__item">
                <ShapeIcon shape="circle" color={priorityColor(p)} /> P{p}
              </span>
            ))}
          </div>
          <div className="legend__row">
            {LEGEND_STATUSES.map((s) => (
              <span key={s} className="legend__item">
                <ShapeIcon shape={INCIDENT_SHAPES[s]!} color="#374151" /> {tx(`status.${s}`)}
              </span>
            ))}
          </div>
          <div className="legend__title">{t('map.units')}</div>
          <div className="legend__row">
            {names.agencies.map((a) => (
              <span key={a.id} className="legend__item">
                <ShapeIcon shape="roundrect" color={agencyColor(a.id)} /> {names.agency(a.id)}
              </span>
            ))}
          </div>
          <div className="legend__row">
            <span className="legend__item">
              <span className="legend__unit legend__unit--available" /> {t('map.unitAvailable')}
            </span>
            <span className="legend__item">
              <span className="legend__unit legend__unit--busy" /> {t('map.unitBusy')}
            </span>
            <span className="legend__item">
              <span className="legend__unit legend__unit--out" /> {t('map.unitOut')}
            </span>
          </div>
        </div>
      )}
    </div>
  );
}
