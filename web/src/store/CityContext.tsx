import { createContext, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import type { ChangeMessage, LiveMessage } from '../api/types.ts';
import { LiveFeed, type LiveStatus } from '../live/liveFeed.ts';
import { CityStore } from './cityStore.ts';
import { fetchActiveIncidents, fetchIncident, fetchUnits } from './queries.ts';

type ChangeListener = (change: ChangeMessage) => void;

export interface LiveAlert {
  id: number;
  message: string;
  at: number;
}

export interface City {
  store: CityStore;
  feed: LiveFeed;
  /** Every change message as it arrives, for panels that follow one incident's timeline. */
  onChange(listener: ChangeListener): () => void;
  refresh(): Promise<void>;
  refreshIncident(id: string): Promise<void>;
  refreshUnits(): Promise<void>;
}

const CityContext = createContext<City | null>(null);
const StatusContext = createContext<LiveStatus>('connecting');
const AlertContext = createContext<LiveAlert[]>([]);

export function CityProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const [alerts, setAlerts] = useState<LiveAlert[]>([]);
  const cityRef = useRef<City | null>(null);

  if (!cityRef.current) {
    const store = new CityStore();
    const listeners = new Set<ChangeListener>();
    // Entities the feed has delivered since the snapshot was requested: their feed copy wins.
    let touched = { incidents: new Set<string>(), units: new Set<string>() };
    let tracking = false;
    let alertSeq = 0;
    const missingIncidents = new Set<string>();
    let missingTimer: ReturnType<typeof setTimeout> | null = null;
    let unitsTimer: ReturnType<typeof setTimeout> | null = null;

    const refreshIncident = async (id: string) => {
      try {
        store.upsertIncident(await fetchIncident(id));
      } catch {
        /* gone or forbidden: the next change or reset will say */
      }
    };
    const refreshUnits = async () => {
      const units = await fetchUnits();
      for (const u of units) store.upsertUnit(u);
    };
    // A change without the entity attached still tells us what changed; fetch it, coalescing bursts.
    const needIncident = (id: string) => {
      missingIncidents.add(id);
      if (missingTimer) return;
      missingTimer = setTimeout(() => {
        missingTimer = null;
        const ids = [...missingIncidents];
        missingIncidents.clear();
        for (const i of ids) void refreshIncident(i);
      }, 100);
    };
    const needUnits = () => {
      if (unitsTimer) return;
      unitsTimer = setTimeout(() => {
        unitsTimer = null;
        void refreshUnits().catch(() => undefined);
      }, 200);
    };

    const refresh = async () => {
      touched = { incidents: new Set(), units: new Set() };
      tracking = true;
      try {
        const [incidents, units] = await Promise.all([fetchActiveIncidents(), fetchUnits()]);
        store.mergeSnapshot(incidents, units, touched);
      } finally {
        tracking = false;
      }
    };

    const onMessage = (msg: LiveMessage) => {
      if (msg.type === 'change') {
        if (msg.incident) {
          store.upsertIncident(msg.incident);
          if (tracking) touched.incidents.add(msg.incident.id);
        } else if (msg.entity === 'incident' || msg.incidentId) {
          const id = msg.entity === 'incident' ? msg.id : msg.incidentId;
          if (id) needIncident(id);
        }
        if (msg.unit) {
          store.upsertUnit(msg.unit);
          if (tracking) touched.units.add(msg.unit.id);
        } else if (msg.entity === 'unit') {
          needUnits();
        }
        for (const l of listeners) l(msg);
      } else if (msg.type === 'reset') {
        store.reset(msg.incidents ?? [], msg.units ?? []);
      } else if (msg.type === 'alert') {
        const text = typeof msg.message === 'string' ? msg.message : typeof msg.detail === 'string' ? msg.detail : JSON.stringify(msg);
        const alert = { id: ++alertSeq, message: text, at: Date.now() };
        setAlerts((list) => [...list.slice(-4), alert]);
        setTimeout(() => setAlerts((list) => list.filter((a) => a.id !== alert.id)), 10_000);
      }
    };

    const feed = new LiveFeed({
      onMessage,
      onStatus: setStatus,
    });

    cityRef.current = {
      store,
      feed,
      onChange: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      refresh,
      refreshIncident,
      refreshUnits,
    };
  }

  useEffect(() => {
    const city = cityRef.current!;
    city.feed.start();
    (window as unknown as { __cbd?: unknown }).__cbd = { feed: city.feed, store: city.store };
    return () => city.feed.stop();
  }, []);

  return (
    <CityContext.Provider value={cityRef.current}>
      <StatusContext.Provider value={status}>
        <AlertContext.Provider value={alerts}>{children}</AlertContext.Provider>
      </StatusContext.Provider>
    </CityContext.Provider>
  );
}

export function useCity(): City {
  const c = useContext(CityContext);
  if (!c) throw new Error('useCity outside CityProvider');
  return c;
}

export function useLiveStatus(): LiveStatus {
  return useContext(StatusContext);
}

export function useLiveAlerts(): LiveAlert[] {
  return useContext(AlertContext);
}

/**
 * Re-renders the caller when the store changes, but at most once per `intervalMs`: a queue of ten
 * thousand rows must not be re-sorted a hundred times a second.
 */
export function useStoreVersion(intervalMs = 250): number {
  const { store } = useCity();
  const sub = useMemo(() => {
    return (notify: () => void) => {
      let timer: ReturnType<typeof setTimeout> | null = null;
      let last = 0;
      const unsub = store.subscribe(() => {
        if (timer) return;
        const wait = Math.max(0, last + intervalMs - Date.now());
        timer = setTimeout(() => {
          timer = null;
          last = Date.now();
          notify();
        }, wait);
      });
      return () => {
        unsub();
        if (timer) clearTimeout(timer);
      };
    };
  }, [store, intervalMs]);
  return useSyncExternalStore(sub, () => store.version);
}
