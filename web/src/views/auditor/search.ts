import { api } from '../../api/client.ts';
import type { HistoryEntry, Incident } from '../../api/types.ts';
import { fetchIncidentPages } from '../../store/queries.ts';

export interface AuditFilters {
  from: string;
  to: string;
  agency: string;
  type: string;
  actor: string;
  status: string;
}

const LIMIT = 200;
/** Incidents whose histories are read to match an actor; the newest ones, since audits look back from now. */
const ACTOR_SCAN = 300;
const PARALLEL = 6;

function iso(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/**
 * The list query filters by status, agency and type; the time range is applied here on reportedAt, and
 * the actor by reading each candidate's history (who did anything to it), newest incidents first.
 */
export async function searchIncidents(f: AuditFilters): Promise<{ items: Incident[]; total: number }> {
  const query = { status: f.status || undefined, agency: f.agency || undefined, type: f.type || undefined };
  const from = iso(f.from);
  const to = iso(f.to);
  const actor = f.actor.trim().toLowerCase();
  if (!from && !to && !actor) {
    const res = await fetchIncidentPages(query, LIMIT);
    return { items: newestFirst(res.items), total: res.total };
  }
  const res = await fetchIncidentPages(query, 5000);
  const lo = from ? Date.parse(from) : -Infinity;
  const hi = to ? Date.parse(to) : Infinity;
  let items = newestFirst(res.items.filter((i) => Date.parse(i.reportedAt) >= lo && Date.parse(i.reportedAt) <= hi));
  if (actor) items = await byActor(items.slice(0, ACTOR_SCAN), actor);
  return { items: items.slice(0, LIMIT), total: items.length };
}

async function byActor(candidates: Incident[], actor: string): Promise<Incident[]> {
  const keep = new Array<boolean>(candidates.length).fill(false);
  let next = 0;
  const worker = async () => {
    while (next < candidates.length) {
      const i = next++;
      const history = await api.get<HistoryEntry[]>(`/api/incidents/${encodeURIComponent(candidates[i]!.id)}/history`).catch(() => []);
      keep[i] = history.some((h) => (h.actorName ?? '').toLowerCase().includes(actor) || (h.actor ?? '').toLowerCase() === actor);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return candidates.filter((_, i) => keep[i]);
}

function newestFirst(items: Incident[]): Incident[] {
  return [...items].sort((a, b) => Date.parse(b.reportedAt) - Date.parse(a.reportedAt));
}
