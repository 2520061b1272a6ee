import { useState } from 'react';
import { useI18n } from '../i18n/i18n.tsx';

export function ReasonForm({ kind, busy, onSubmit, onCancel }: { kind: 'cancel' | 'reopen' | 'resolve'; busy: boolean; onSubmit: (text: string) => void; onCancel: () => void }) {
  const { t } = useI18n();
  const [text, setText] = useState('');
  const required = kind !== 'resolve';
  const title = kind === 'cancel' ? t('incident.cancel') : kind === 'reopen' ? t('incident.reopen') : t('incident.resolve');
  return (
    <form
      className="section reason-form"
      data-testid={`reason-form-${kind}`}
      onSubmit={(e) => {
        e.preventDefault();
        if (required && !text.trim()) return;
        onSubmit(text.trim());
      }}
    >
      <h3>{title}</h3>
      <textarea data-testid="reason-text" rows={2} value={text} onChange={(e) => setText(e.target.value)} placeholder={kind === 'resolve' ? t('incident.summary') : t('incident.reasonPrompt')} required={required} />
      <div className="card__actions">
        <button type="button" className="btn" onClick={onCancel}>
          {t('common.cancel')}
        </button>
        <button className={`btn ${kind === 'cancel' ? 'btn--danger' : 'btn--primary'}`} data-testid="reason-submit" disabled={busy || (required && !text.trim())}>
          {t('common.submit')}
        </button>
      </div>
    </form>
  );
}
