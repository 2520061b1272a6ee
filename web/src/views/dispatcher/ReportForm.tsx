import { useState, type FormEvent } from 'react';
import { errorText } from '../../api/client.ts';
import { commands } from '../../api/commands.ts';
import type { Priority } from '../../api/types.ts';
import { useNames } from '../../config/ConfigContext.tsx';
import { useI18n } from '../../i18n/i18n.tsx';
import { useCity } from '../../store/CityContext.tsx';
import { incidentLabel } from '../../util/format.ts';

export function ReportForm({
  location,
  side,
  onCancel,
  onReported,
}: {
  location: { lat: number; lng: number };
  side: 'left' | 'right';
  onCancel: () => void;
  onReported: (id: string, label: string) => void;
}) {
  const { t, tx } = useI18n();
  const names = useNames();
  const city = useCity();
  const [type, setType] = useState('');
  const [priority, setPriority] = useState<number | ''>('');
  const [address, setAddress] = useState('');
  const [description, setDescription] = useState('');
  const [source, setSource] = useState(names.sources.includes('phone') ? 'phone' : (names.sources[0] ?? ''));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const effectivePriority = priority === '' ? (names.typeInfo(type)?.defaultPriority ?? 3) : priority;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await commands.report({
        type,
        priority: effectivePriority as Priority,
        location: { lat: round6(location.lat), lng: round6(location.lng) },
        ...(address.trim() ? { address: address.trim() } : {}),
        ...(description.trim() ? { description: description.trim() } : {}),
        ...(source ? { source } : {}),
      });
      // The live feed will bring it too; fetching now means the panel never waits on it.
      void city.refreshIncident(res.id);
      onReported(res.id, incidentLabel(res.id));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className={`card report report--${side}`} data-testid="report-form" onSubmit={submit}>
      <header className="card__head">
        <h3>{t('report.title')}</h3>
        <button type="button" className="icon-btn" aria-label={t('common.close')} onClick={onCancel}>
          ×
        </button>
      </header>
      <div className="report__loc" data-testid="report-location">
        {t('report.location')}: {location.lat.toFixed(5)}, {location.lng.toFixed(5)}
      </div>
      <div className="form-grid">
        <label>
          {t('report.type')}
          <select data-testid="report-type" value={type} onChange={(e) => setType(e.target.value)} required>
            <option value="" disabled>
              —
            </option>
            {names.incidentTypes.map((it) => (
              <option key={it.id} value={it.id}>
                {names.type(it.id)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('report.priority')}
          <select data-testid="report-priority" value={effectivePriority} onChange={(e) => setPriority(Number(e.target.value))}>
            {names.priorities.map((p) => (
              <option key={p} value={p}>
                P{p} · {tx(`priority.${p}`)}
              </option>
            ))}
          </select>
        </label>
        <label className="span2">
          {t('report.address')}
          <input data-testid="report-address" value={address} onChange={(e) => setAddress(e.target.value)} placeholder={t('report.addressPlaceholder')} maxLength={200} />
        </label>
        <label className="span2">
          {t('report.description')}
          <textarea data-testid="report-description" value={description} onChange={(e) => setDescription(e.target.value)} rows={2} maxLength={2000} />
        </label>
        {names.sources.length > 0 && (
          <label className="span2">
            {t('report.source')}
            <select data-testid="report-source" value={source} onChange={(e) => setSource(e.target.value)}>
              {names.sources.map((s) => (
                <option key={s} value={s}>
                  {names.source(s)}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {error && (
        <p className="cbd-error" role="alert" data-testid="report-error">
          {error}
        </p>
      )}
      <div className="card__actions">
        <button type="button" className="btn" onClick={onCancel}>
          {t('common.cancel')}
        </button>
        <button className="btn btn--primary" data-testid="report-submit" disabled={busy || !type}>
          {t('report.submit')}
        </button>
      </div>
    </form>
  );
}

function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
