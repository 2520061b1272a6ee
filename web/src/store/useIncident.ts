import { useCallback, useEffect, useRef, useState } from 'react';
import { api, errorText } from '../api/client.ts';
import type { HistoryEntry, Incident } from '../api/types.ts';
import { useCity, useStoreVersion } from './CityContext.tsx';

/** One incident, live: the store's copy when it has one (ended incidents leave the store), else fetched. */
export function useIncident(id: string): { incident: Incident | null; error: string | null } {
  const city = useCity();
  useStoreVersion(200);
  const [fetched, setFetched] = useState<Incident | null>(null);
  const [error, setError] = useState<string | null>(null);
  const inStore = city.store.incidents.get(id) ?? null;

  useEffect(() => {
    if (inStore) return;
    let cancelled = false;
    api
      .get<Incident>(`/api/incidents/${encodeURIComponent(id)}`)
      .then((i) => !cancelled && setFetched(i))
      .catch((e) => !cancelled && setError(errorText(e)));
    return () => {
      cancelled = true;
    };
  }, [id, inStore]);

  return { incident: inStore ?? fetched, error: inStore ? null : error };
}

/** An incident's history, refetched (coalesced) whenever the live feed says it changed. */
export function useHistory(id: string | null): { history: HistoryEntry[] | null; error: string | null; reload: () => void } {
  const city = useCity();
  const [history, setHistory] = useState<HistoryEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const generation = useRef(0);

  const load = useCallback(() => {
    if (!id) return;
    const gen = ++generation.current;
    api
      .get<HistoryEntry[]>(`/api/incidents/${encodeURIComponent(id)}/history`)
      .then((h) => {
        if (gen !== generation.current) return;
        setHistory(Array.isArray(h) ? h : ((h as { items?: HistoryEntry[] }).items ?? []));
        setError(null);
      })
      .catch((e) => gen === generation.current && setError(errorText(e)));
  }, [id]);

  useEffect(() => {
    setHistory(null);
    load();
    if (!id) return;
    const off = city.onChange((c) => {
      if (c.id !== id && c.incidentId !== id) return;
      if (timer.current) clearTimeout(timer.current);
      timer.current = setTimeout(load, 150);
    });
    return () => {
      off();
      if (timer.current) clearTimeout(timer.current);
    };
  }, [id, load, city]);

  return { history, error, reload: load };
}
