import { useI18n } from '../i18n/i18n.tsx';

export function LangSwitch({ className }: { className?: string }) {
  const { lang, setLang, t } = useI18n();
  return (
    <button
      type="button"
      className={`btn btn--ghost ${className ?? ''}`}
      data-testid="lang-switch"
      aria-label={t('lang.label')}
      onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')}
    >
      {t('lang.switch')}
    </button>
  );
}
