import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, errorText } from '../api/client.ts';
import type { AppConfig, IncidentTypeConfig, Named } from '../api/types.ts';
import { useI18n } from '../i18n/i18n.tsx';

const ConfigContext = createContext<AppConfig | null>(null);

export function ConfigProvider({ children, fallback }: { children: ReactNode; fallback: (error: string | null, retry: () => void) => ReactNode }) {
  const [config, setConfig] = useState<AppConfig | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let cancelled = false;
    setError(null);
    api
      .get<AppConfig>('/api/config')
      .then((c) => !cancelled && setConfig(c))
      .catch((e) => !cancelled && setError(errorText(e)));
    return () => {
      cancelled = true;
    };
  }, [attempt]);

  if (!config) return <>{fallback(error, () => setAttempt((a) => a + 1))}</>;
  return <ConfigContext.Provider value={config}>{children}</ConfigContext.Provider>;
}

export function useConfig(): AppConfig {
  const c = useContext(ConfigContext);
  if (!c) throw new Error('useConfig outside ConfigProvider');
  return c;
}

function nameOf(entry: string | Named): Named {
  return typeof entry === 'string' ? { id: entry, name: entry, nameZh: entry } : entry;
}

export interface Names {
  agency(id: string): string;
  type(id: string): string;
  unitType(id: string): string;
  source(id: string): string;
  role(id: string): string;
  typeInfo(id: string): IncidentTypeConfig | undefined;
  agencies: Named[];
  incidentTypes: IncidentTypeConfig[];
  sources: string[];
  priorities: number[];
}

/** Display names for the ids the API uses, in the current language. */
export function useNames(): Names {
  const config = useConfig();
  const { pick, tx } = useI18n();
  const agencies = useMemo(() => new Map(config.agencies.map((a) => [a.id, a])), [config]);
  const types = useMemo(() => new Map(config.incidentTypes.map((t) => [t.id, t])), [config]);
  const unitTypes = useMemo(() => new Map((config.unitTypes ?? []).map((u) => [u.id, u])), [config]);
  const sources = useMemo(() => new Map((config.sources ?? []).map((s) => [nameOf(s).id, nameOf(s)])), [config]);
  const priorities = useMemo(
    () => (config.priorities?.length ? config.priorities.map((p) => Number(typeof p === 'object' ? p.id : p)) : [1, 2, 3, 4, 5]),
    [config],
  );

  const agency = useCallback((id: string) => pick(agencies.get(id), id), [agencies, pick]);
  const type = useCallback((id: string) => pick(types.get(id), id), [types, pick]);
  const unitType = useCallback((id: string) => pick(unitTypes.get(id), id), [unitTypes, pick]);
  const source = useCallback(
    (id: string) => {
      const named = sources.get(id);
      return named && named.nameZh !== named.name ? pick(named) : tx(`source.${id}`, id);
    },
    [sources, pick, tx],
  );
  const role = useCallback((id: string) => tx(`role.${id}`, id), [tx]);

  return useMemo(
    () => ({
      agency,
      type,
      unitType,
      source,
      role,
      typeInfo: (id: string) => types.get(id),
      agencies: config.agencies,
      incidentTypes: config.incidentTypes,
      sources: [...sources.keys()],
      priorities,
    }),
    [agency, type, unitType, source, role, types, config, sources, priorities],
  );
}
