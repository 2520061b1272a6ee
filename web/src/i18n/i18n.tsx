import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { messages, type MessageKey } from './messages.ts';

export type Lang = 'zh' | 'en';
const LANG_KEY = 'cbd.lang';

type Params = Record<string, string | number>;

export interface I18n {
  lang: Lang;
  setLang(lang: Lang): void;
  t(key: MessageKey, params?: Params): string;
  /** For keys built from data (a status, an event type): falls back to the raw value when we have no words for it. */
  tx(key: string, fallback?: string, params?: Params): string;
  /** Picks the Chinese or English name of something /api/config named. */
  pick(named: { name: string; nameZh: string } | undefined, fallback?: string): string;
  locale: string;
}

function initialLang(): Lang {
  try {
    const stored = localStorage.getItem(LANG_KEY);
    if (stored === 'zh' || stored === 'en') return stored;
  } catch {
    /* storage can be disabled; Chinese is the default anyway */
  }
  return 'zh';
}

function fill(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);

  useEffect(() => {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  }, [lang]);

  const setLang = useCallback((next: Lang) => {
    setLangState(next);
    try {
      localStorage.setItem(LANG_KEY, next);
    } catch {
      /* not remembered, still switched */
    }
  }, []);

  const value = useMemo<I18n>(() => {
    const t = (key: MessageKey, params?: Params) => fill(messages[key][lang], params);
    return {
      lang,
      setLang,
      t,
      tx: (key, fallback, params) => {
        const entry = (messages as Record<string, { zh: string; en: string }>)[key];
        return entry ? fill(entry[lang], params) : (fallback ?? key);
      },
      pick: (named, fallback = '') => (named ? (lang === 'zh' ? named.nameZh || named.name : named.name || named.nameZh) : fallback),
      locale: lang === 'zh' ? 'zh-CN' : 'en-GB',
    };
  }, [lang, setLang]);

  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const ctx = useContext(I18nContext);
  if (!ctx) throw new Error('useI18n outside I18nProvider');
  return ctx;
}
