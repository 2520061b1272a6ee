import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from '../../api/client.ts';
import { useI18n } from '../../i18n/i18n.tsx';
import { formatTime } from '../../util/format.ts';

/** What GET /api/audit/verify answers (the parts shown here). */
interface VerifyReport {
  ok: boolean;
  verifiedAt: string;
  summary: string;
  events: { checked: number; firstBroken: { eventId: string; streamId: string; revision: number; globalPosition: number; detail: string } | null };
  checkpoints: { firstBroken: { seq: number; detail: string } | null };
  auditLog: { firstBroken: { seq: number; problem: string } | null };
}

type Status = { kind: 'checking' } | { kind: 'done'; report: VerifyReport } | { kind: 'error'; message: string };

/** "verified ✓ / broken at …": the server recomputes every hash of the record each time this is asked. */
export function VerifyBadge() {
  const { t, locale } = useI18n();
  const [status, setStatus] = useState<Status>({ kind: 'checking' });

  const check = useCallback(() => {
    setStatus({ kind: 'checking' });
    api
      .get<VerifyReport>('/api/audit/verify')
      .then((report) => setStatus({ kind: 'done', report }))
      .catch((e) => setStatus({ kind: 'error', message: e instanceof ApiError ? e.message : String(e) }));
  }, []);

  useEffect(check, [check]);

  let state: 'checking' | 'verified' | 'broken' | 'error' = 'checking';
  let text = t('audit.verify.checking');
  let title: string | undefined;
  if (status.kind === 'error') {
    state = 'error';
    text = t('audit.verify.error');
    title = status.message;
  } else if (status.kind === 'done') {
    const r = status.report;
    title = r.summary;
    if (r.ok) {
      state = 'verified';
      text = t('audit.verify.ok', { n: r.events.checked, time: formatTime(r.verifiedAt, locale, true) });
    } else {
      state = 'broken';
      const e = r.events.firstBroken;
      text = e
        ? t('audit.verify.brokenEvent', { stream: e.streamId, revision: e.revision, position: e.globalPosition })
        : r.checkpoints.firstBroken
          ? t('audit.verify.brokenCheckpoint', { seq: r.checkpoints.firstBroken.seq })
          : t('audit.verify.brokenLog', { seq: r.auditLog.firstBroken?.seq ?? 0 });
    }
  }

  return (
    <div className={`verify verify--${state}`} data-testid="verify-badge" data-state={state} title={title}>
      <span className="verify__text">{text}</span>
      {status.kind === 'done' && !status.report.ok && <span className="verify__detail" data-testid="verify-detail">{status.report.summary}</span>}
      <button type="button" className="btn" data-testid="verify-again" onClick={check} disabled={status.kind === 'checking'}>
        {t('audit.verify.again')}
      </button>
    </div>
  );
}
