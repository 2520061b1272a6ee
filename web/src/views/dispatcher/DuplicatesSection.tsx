import { useEffect, useState } from 'react';
import { api, errorText } from '../../api/client.ts';
import type { Incident, LikelyDuplicate } from '../../api/types.ts';
import type { ToastApi } from '../../components/Toasts.tsx';
import { useI18n } from '../../i18n/i18n.tsx';
import { incidentLabel } from '../../util/format.ts';
import { coordinationWords } from './coordinationWords.ts';

/** Warns that an open incident looks like another one nearby, and merges or splits on the dispatcher's word. */
export function DuplicatesSection({ incident, toasts, onChanged }: { incident: Incident; toasts: ToastApi; onChanged: () => void }) {
  const { lang } = useI18n();
  const w = coordinationWords(lang);
  const [found, setFound] = useState<LikelyDuplicate[]>([]);
  const [busy, setBusy] = useState(false);
  const open = ['reported', 'triaged', 'dispatched', 'on_scene'].includes(incident.status);

  useEffect(() => {
    if (!open) {
      setFound([]);
      return;
    }
    let cancelled = false;
    api
      .optional<LikelyDuplicate[]>(`/api/incidents/${encodeURIComponent(incident.id)}/duplicates`)
      .then((r) => !cancelled && setFound(Array.isArray(r) ? r : []))
      .catch(() => !cancelled && setFound([]));
    return () => {
      cancelled = true;
    };
  }, [incident.id, incident.revision, open]);

  const run = async (path: string, body: unknown) => {
    setBusy(true);
    try {
      await api.command(path, body);
      onChanged();
    } catch (e) {
      toasts.push('error', errorText(e));
    } finally {
      setBusy(false);
    }
  };

  if (incident.mergedInto) {
    return (
      <section className="section dup" data-testid="merged-into">
        <p>{w('mergedInto', { label: incidentLabel(incident.mergedInto) })}</p>
        <button className="btn" data-testid="split-button" disabled={busy} onClick={() => run(`/api/incidents/${encodeURIComponent(incident.id)}/split`, {})}>
          {w('split')}
        </button>
      </section>
    );
  }
  return (
    <>
      {found.length > 0 && (
        <section className="section dup dup--warn" data-testid="duplicate-warning">
          <h3>⚠ {w('duplicates')}</h3>
          <ul>
            {found.map((d) => (
              <li key={d.id} data-testid="duplicate-candidate" data-id={d.id}>
                <span>{w('duplicateOf', { label: d.label, m: d.distanceM, min: d.minutesApart })}</span>{' '}
                <button className="btn" data-testid="merge-button" disabled={busy} onClick={() => run(`/api/incidents/${encodeURIComponent(incident.id)}/merge`, { into: d.id })}>
                  {w('merge')}
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      {(incident.mergedFrom?.length ?? 0) > 0 && (
        <section className="section" data-testid="merged-from">
          <h3>{w('mergedFrom')}</h3>
          <ul>
            {incident.mergedFrom!.map((id) => (
              <li key={id}>
                {incidentLabel(id)}{' '}
                <button className="btn" data-testid="split-off-button" disabled={busy} onClick={() => run(`/api/incidents/${encodeURIComponent(incident.id)}/split`, { duplicateId: id })}>
                  {w('split')}
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}
