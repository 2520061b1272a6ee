import { api } from '../api/client.ts';
import { ACTIVE_STATUSES, type Incident, type IncidentStatus, type Page, type Unit } from '../api/types.ts';

const PAGE_SIZE = 500;
/** A hard stop so a runaway query can't stall the browser; 20k is twice the load we design for. */
const MAX_ROWS = 20_000;

export async function fetchIncidentPages(query: Record<string, string | number | undefined>, limit = MAX_ROWS): Promise<{ items: Incident[]; total: number }> {
  const items: Incident[] = [];
  let total = 0;
  for (let page = 1; items.length < limit; page++) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
    params.set('page', String(page));
    params.set('pageSize', String(Math.min(PAGE_SIZE, limit)));
    const res = await api.get<Page<Incident> | Incident[]>(`/api/incidents?${params}`);
    if (Array.isArray(res)) return { items: res, total: res.length };
    items.push(...res.items);
    total = res.total;
    if (res.items.length === 0 || items.length >= res.total) break;
  }
  return { items, total };
}

export async function fetchActiveIncidents(): Promise<Incident[]> {
  const lists = await Promise.all(ACTIVE_STATUSES.map((status: IncidentStatus) => fetchIncidentPages({ status })));
  return lists.flatMap((l) => l.items);
}

export function fetchUnits(): Promise<Unit[]> {
  return api.get<Unit[]>('/api/units');
}

export function fetchIncident(id: string): Promise<Incident> {
  return api.get<Incident>(`/api/incidents/${encodeURIComponent(id)}`);
}
