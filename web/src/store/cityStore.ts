import type { Incident, Unit } from '../api/types.ts';

export interface StoreChange {
  incidents: ReadonlySet<string>;
  units: ReadonlySet<string>;
  /** Everything may have changed (initial load, reset): redraw from scratch. */
  all: boolean;
}

type Listener = (change: StoreChange) => void;

function newer(current: { revision?: number } | undefined, next: { revision?: number }): boolean {
  if (!current) return true;
  if (typeof current.revision === 'number' && typeof next.revision === 'number') return next.revision >= current.revision;
  return true;
}

/**
 * The city as this browser knows it: plain Maps mutated in place, so thousands of updates a second
 * cost a Map.set each. Listeners hear about a batch once per microtask; the canvas layer and React
 * views then throttle to their own pace.
 */
export class CityStore {
  readonly incidents = new Map<string, Incident>();
  readonly units = new Map<string, Unit>();
  version = 0;
  loaded = false;

  private listeners = new Set<Listener>();
  private pendingIncidents = new Set<string>();
  private pendingUnits = new Set<string>();
  private pendingAll = false;
  private scheduled = false;

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Applies a live change; the feed is ordered, so revisions only guard against a snapshot racing it. */
  upsertIncident(incident: Incident): void {
    if (!newer(this.incidents.get(incident.id), incident)) return;
    this.incidents.set(incident.id, incident);
    this.pendingIncidents.add(incident.id);
    this.schedule();
  }

  upsertUnit(unit: Unit): void {
    if (!newer(this.units.get(unit.id), unit)) return;
    this.units.set(unit.id, unit);
    this.pendingUnits.add(unit.id);
    this.schedule();
  }

  /**
   * Merges a REST snapshot taken while the live feed was already running. Rows the feed has touched
   * since are skipped: the feed carries whole entities, so its copy is at least as new as the snapshot's.
   */
  mergeSnapshot(incidents: readonly Incident[] | null, units: readonly Unit[] | null, touched: { incidents: ReadonlySet<string>; units: ReadonlySet<string> }): void {
    if (incidents) for (const i of incidents) if (!touched.incidents.has(i.id) && newer(this.incidents.get(i.id), i)) this.incidents.set(i.id, i);
    if (units) for (const u of units) if (!touched.units.has(u.id) && newer(this.units.get(u.id), u)) this.units.set(u.id, u);
    this.loaded = true;
    this.pendingAll = true;
    this.schedule();
  }

  reset(incidents: readonly Incident[], units: readonly Unit[]): void {
    this.incidents.clear();
    this.units.clear();
    for (const i of incidents) this.incidents.set(i.id, i);
    for (const u of units) this.units.set(u.id, u);
    this.loaded = true;
    this.pendingAll = true;
    this.schedule();
  }

  clear(): void {
    this.incidents.clear();
    this.units.clear();
    this.loaded = false;
    this.pendingAll = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const change: StoreChange = { incidents: this.pendingIncidents, units: this.pendingUnits, all: this.pendingAll };
    this.pendingIncidents = new Set();
    this.pendingUnits = new Set();
    this.pendingAll = false;
    this.version++;
    for (const l of this.listeners) l(change);
  }
}
