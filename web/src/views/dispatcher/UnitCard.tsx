import type { Incident, Unit } from '../../api/types.ts';
import { AgencyChip, UnitStatusBadge } from '../../components/Badges.tsx';
import type { ToastApi } from '../../components/Toasts.tsx';
import { useNames } from '../../config/ConfigContext.tsx';
import { useI18n } from '../../i18n/i18n.tsx';
import { useCity } from '../../store/CityContext.tsx';
import { haversineKm } from '../../util/format.ts';
import { isAvailable, labelOf } from '../../util/incidents.ts';
import { useAssign } from './useAssign.ts';

export function UnitCard({ unit, incident, canAssign, onClose, onAssigned, toasts }: { unit: Unit; incident: Incident | null; canAssign: boolean; onClose: () => void; onAssigned: () => void; toasts: ToastApi }) {
  const { t } = useI18n();
  const names = useNames();
  const { store } = useCity();
  const { assign, busyUnit } = useAssign(toasts);
  const serving = unit.incidentId ? store.incidents.get(unit.incidentId) : undefined;

  let why: string | null = null;
  if (!incident) why = t('incident.selectUnitFirst');
  else if (!isAvailable(unit)) why = t('incident.unitBusy', { unit: unit.callSign });
  else if (!incident.agencies.includes(unit.agency)) why = t('incident.unitWrongAgency', { unit: unit.callSign });

  return (
    <div className="card unit-card" data-testid="unit-card" data-unit-id={unit.id}>
      <header className="card__head">
        <h3>
          {t('unit.title')} {unit.callSign}
        </h3>
        <button className="icon-btn" aria-label={t('common.close')} onClick={onClose}>
          ×
        </button>
      </header>
      <dl className="kv">
        <dt>{t('unit.agency')}</dt>
        <dd>
          <AgencyChip agency={unit.agency} /> {names.unitType(unit.type)}
        </dd>
        <dt>{t('unit.status')}</dt>
        <dd>
          <UnitStatusBadge status={unit.status} readiness={unit.readiness} />
        </dd>
        {unit.incidentId && (
          <>
            <dt>{t('unit.incident')}</dt>
            <dd>{serving ? `${labelOf(serving)} · ${names.type(serving.type)}` : unit.incidentId}</dd>
          </>
        )}
        {incident && unit.position && (
          <>
            <dt>{labelOf(incident)}</dt>
            <dd>{t('common.km', { d: haversineKm(incident.location, unit.position).toFixed(1) })}</dd>
          </>
        )}
      </dl>
      {canAssign && incident ? (
        <div className="card__actions">
          <span className="unit-card__q">{t('incident.assignConfirm', { unit: unit.callSign, label: labelOf(incident) })}</span>
          <button
            className="btn btn--primary"
            data-testid="unit-card-assign"
            disabled={busyUnit === unit.id}
            onClick={async () => {
              if (await assign(incident, unit)) onAssigned();
            }}
          >
            {t('incident.assignBtn')}
          </button>
        </div>
      ) : (
        why && <p className="muted">{why}</p>
      )}
    </div>
  );
}
