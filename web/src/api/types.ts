// Shapes of what the API sends. Domain vocabulary comes from domain/ as types only: the web app
// never bundles server code, and the values themselves (names, agencies per type) come from /api/config.
import type { Agency, IncidentSource, Location, Priority, Role } from '../../../domain/catalog.ts';
import type { IncidentStateName } from '../../../domain/incident/incident.machine.ts';

export type { Agency, IncidentSource, Location, Priority, Role };

// A merged duplicate is the machine's `merged` state but the API shows it as closed (with mergedInto).
export type IncidentStatus = Exclude<IncidentStateName, 'new' | 'merged'>;
export const ACTIVE_STATUSES: readonly IncidentStatus[] = ['reported', 'triaged', 'dispatched', 'on_scene'];
export const ALL_STATUSES: readonly IncidentStatus[] = ['reported', 'triaged', 'dispatched', 'on_scene', 'resolved', 'closed', 'cancelled'];

export type UnitStatus = 'idle' | 'dispatched' | 'en_route' | 'on_scene' | 'transporting' | 'at_hospital';
export type Readiness = 'available' | 'out_of_service';
export type AssignedStatus = 'en_route' | 'on_scene' | 'transporting' | 'at_hospital' | 'cleared';
export const ASSIGNED_STATUS_FLOW: readonly AssignedStatus[] = ['en_route', 'on_scene', 'transporting', 'at_hospital', 'cleared'];

export interface User {
  id: string;
  username: string;
  role: Role;
  agency: Agency;
  displayName?: string;
}

export interface Session {
  token: string;
  user: User;
}

export interface Incident {
  id: string;
  label?: string;
  status: IncidentStatus;
  priority: Priority;
  type: string;
  location: Location;
  address?: string | null;
  description?: string | null;
  source?: IncidentSource | string;
  agencies: Agency[];
  /** Units assigned and not yet cleared. */
  units: string[];
  allUnits?: string[];
  notesCount?: number;
  revision: number;
  reportedAt: string;
  triagedAt?: string | null;
  firstDispatchedAt?: string | null;
  firstOnSceneAt?: string | null;
  resolvedAt?: string | null;
  closedAt?: string | null;
  cancelledAt?: string | null;
  updatedAt?: string;
  lastSeq?: number;
  // Multi-agency coordination (issue 6).
  legs?: Leg[];
  lead?: Agency | null;
  planId?: string;
  missing?: Array<{ agency: Agency; unitType: string; count: number }>;
  overdue?: Array<{ ruleId: string; status: string; since: string; dueAt: string; unitId?: string }>;
  mergedInto?: string | null;
  mergedFrom?: string[];
  enforcement?: { stage: string; dueAt?: string; requirements?: string } | null;
}

export interface Leg {
  agency: Agency;
  status: 'requested' | 'declined' | 'pending' | 'dispatched' | 'on_scene' | 'cleared' | 'done';
  lead: boolean;
  owner: string | null;
  units: Array<{ unitId: string; callSign: string; unitType?: string; status: string }>;
  required: Array<{ unitType: string; count: number }>;
  missing: Array<{ unitType: string; count: number }>;
  requestedBy?: Agency;
  note?: string;
  declineReason?: string;
  summary?: string;
}

export interface LikelyDuplicate {
  id: string;
  label: string;
  distanceM: number;
  minutesApart: number;
}

export interface Unit {
  id: string;
  callSign: string;
  agency: Agency;
  type: string;
  readiness: Readiness;
  status: UnitStatus;
  incidentId: string | null;
  position: Location | null;
  revision?: number;
  statusSince?: string;
  homeStation?: string;
  lastSeq?: number;
}

export interface HistoryEntry {
  revision: number;
  position: number;
  type: string;
  data: Record<string, unknown>;
  actor: string | null;
  actorName?: string | null;
  role: Role | string | null;
  agency: Agency | string | null;
  occurredAt: string;
  reason?: string | null;
  entity?: 'incident' | 'unit';
  entityId?: string;
}

export interface Named {
  id: string;
  name: string;
  nameZh: string;
}

export interface IncidentTypeConfig extends Named {
  agencies: Agency[];
  defaultPriority: Priority;
}

export interface UnitTypeConfig extends Named {
  agency?: Agency;
  speedKmh?: number;
}

export interface AppConfig {
  agencies: Named[];
  incidentTypes: IncidentTypeConfig[];
  unitTypes: UnitTypeConfig[];
  priorities: (number | (Named & { id: number | string }))[];
  sources: (string | Named)[];
  roles: (string | Named)[];
  tileUrl?: string | null;
  tileAttribution?: string | null;
  center?: Location;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

export interface Percentiles {
  p50: number | null;
  p90: number | null;
  n: number;
}

export interface Dashboard {
  open: { byAgency: Record<string, number>; byPriority: Record<string, number>; total?: number };
  countsByType: Record<string, number>;
  kpis: { receivedToDispatch: Percentiles; receivedToOnScene: Percentiles; receivedToResolved: Percentiles };
  units: { available: number; busy: number; outOfService: number };
}

export interface Recommendation {
  unitId: string;
  agency: Agency;
  type: string;
  distanceKm: number;
  etaMinutes: number | null;
  reason: string;
  callSign?: string;
  coverage?: { lastAtStation: boolean; remainingAtStation: number; nextNearest: { unitId: string; callSign: string; distanceKm: number } | null };
}

export interface Problem {
  title: string;
  status: number;
  detail?: string;
  state?: string;
  allowed?: string[];
  type?: string;
}

export type LiveMessage =
  | { type: 'hello'; position: number; head?: number }
  | { type: 'ping'; position: number }
  | {
      type: 'change';
      position: number;
      entity: 'incident' | 'unit';
      id: string;
      incidentId: string | null;
      eventType: string;
      data: Record<string, unknown>;
      occurredAt: string;
      actor: string | null;
      incident?: Incident;
      unit?: Unit;
    }
  | { type: 'reset'; position: number; reason?: string; incidents: Incident[]; units: Unit[] }
  | { type: 'alert'; [key: string]: unknown };

export type ChangeMessage = Extract<LiveMessage, { type: 'change' }>;
