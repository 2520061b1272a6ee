import { api } from './client.ts';
import type { Agency, AssignedStatus, Location, Priority } from './types.ts';

type Created = { id: string; revision?: number };
type Ack = { id?: string; revision?: number };

const path = (id: string, tail: string) => `/api/incidents/${encodeURIComponent(id)}/${tail}`;

export const commands = {
  report: (body: { type: string; priority: Priority; location: Location; address?: string; description?: string; source?: string }) =>
    api.command<Created>('/api/incidents', body),
  triage: (id: string, body: { priority?: Priority; type?: string; agencies?: Agency[] }) => api.command<Ack>(path(id, 'triage'), body),
  assign: (id: string, unitId: string) => api.command<Ack>(path(id, 'assignments'), { unitId }),
  unitStatus: (id: string, unitId: string, status: AssignedStatus) =>
    api.command<Ack>(path(id, `units/${encodeURIComponent(unitId)}/status`), { status }),
  resolve: (id: string, summary?: string) => api.command<Ack>(path(id, 'resolve'), summary ? { summary } : {}),
  close: (id: string) => api.command<Ack>(path(id, 'close'), {}),
  cancel: (id: string, reason: string) => api.command<Ack>(path(id, 'cancel'), { reason }),
  reopen: (id: string, reason: string) => api.command<Ack>(path(id, 'reopen'), { reason }),
  note: (id: string, text: string) => api.command<Ack>(path(id, 'notes'), { text }),
  escalate: (id: string, body: { priority?: Priority; agencies?: Agency[] }) => api.command<Ack>(path(id, 'escalate'), body),
};
