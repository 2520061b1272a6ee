import { useCallback, useState } from 'react';
import { ApiError, errorText } from '../../api/client.ts';
import { commands } from '../../api/commands.ts';
import type { Incident, Unit } from '../../api/types.ts';
import type { ToastApi } from '../../components/Toasts.tsx';
import { useI18n } from '../../i18n/i18n.tsx';
import { useCity } from '../../store/CityContext.tsx';
import { labelOf } from '../../util/incidents.ts';

/**
 * Assigning races other dispatchers: the server decides on the unit's stream, and the loser gets a
 * 409. The loser is told in words and sees fresh data at once, rather than a list that still offers
 * a unit that is already on its way somewhere else.
 */
export function useAssign(toasts: ToastApi) {
  const city = useCity();
  const { t } = useI18n();
  const [busyUnit, setBusyUnit] = useState<string | null>(null);

  const assign = useCallback(
    async (incident: Incident, unit: Unit): Promise<boolean> => {
      setBusyUnit(unit.id);
      try {
        await commands.assign(incident.id, unit.id);
        toasts.push('success', t('incident.assigned', { unit: unit.callSign, label: labelOf(incident) }));
        return true;
      } catch (e) {
        if (e instanceof ApiError && e.isConflict) {
          toasts.push('conflict', `${t('incident.conflict', { detail: e.message })} ${t('incident.conflictRefreshed')}`);
        } else {
          toasts.push('error', errorText(e));
        }
        return false;
      } finally {
        setBusyUnit(null);
        await Promise.all([city.refreshUnits().catch(() => undefined), city.refreshIncident(incident.id)]);
      }
    },
    [city, t, toasts],
  );

  return { assign, busyUnit };
}
