// GET /api/config: the city's vocabulary for clients (public: the login page needs it before anyone logs in).
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import {
  AGENCIES,
  AGENCY_NAMES,
  ASSIGNED_UNIT_STATUSES,
  INCIDENT_SOURCES,
  INCIDENT_TYPES,
  PRIORITIES,
  ROLES,
  UNIT_TYPES,
  type IncidentSource,
  type Priority,
  type Role,
} from '../../domain/index.ts';
import { Closed, Nullable, problems } from '../http/schemas.ts';

export interface CatalogOptions {
  tileUrl?: string;
  demo: boolean;
}

const PRIORITY_NAMES: Record<Priority, { en: string; zh: string }> = {
  1: { en: 'P1 · Critical: life at risk now', zh: 'P1 · 特急：生命危险' },
  2: { en: 'P2 · Urgent', zh: 'P2 · 紧急' },
  3: { en: 'P3 · Prompt', zh: 'P3 · 较急' },
  4: { en: 'P4 · Routine', zh: 'P4 · 一般' },
  5: { en: 'P5 · Case: within days', zh: 'P5 · 案件：数日内处理' },
};

const SOURCE_NAMES: Record<IncidentSource, { en: string; zh: string }> = {
  phone: { en: 'Emergency call', zh: '报警电话' },
  hotline_12345: { en: '12345 citizen hotline', zh: '12345 市民热线' },
  sensor: { en: 'Sensor / IoT alarm', zh: '物联网传感器告警' },
  patrol: { en: 'Patrol report', zh: '巡逻上报' },
};

const ROLE_NAMES: Record<Role, { en: string; zh: string }> = {
  dispatcher: { en: 'Dispatcher', zh: '调度员' },
  supervisor: { en: 'Field supervisor', zh: '现场指挥' },
  auditor: { en: 'Auditor', zh: '审计员' },
  admin: { en: 'Administrator', zh: '管理员' },
};

const Named = { id: Type.String(), name: Type.String(), nameZh: Type.String() };

const CatalogBody = Closed({
  agencies: Type.Array(Closed(Named)),
  incidentTypes: Type.Array(Closed({ ...Named, agencies: Type.Array(Type.String()), defaultPriority: Type.Integer() })),
  unitTypes: Type.Array(Closed({ ...Named, agency: Type.String(), speedKmh: Type.Number() })),
  priorities: Type.Array(Closed({ id: Type.Integer(), name: Type.String(), nameZh: Type.String() })),
  sources: Type.Array(Closed(Named)),
  roles: Type.Array(Closed(Named)),
  unitStatuses: Type.Array(Type.String()),
  tileUrl: Nullable(Type.String()),
  demo: Type.Boolean(),
});

const catalog: FastifyPluginAsync<CatalogOptions> = async (app, options) => {
  const body = {
    agencies: AGENCIES.map((id) => ({ id, name: AGENCY_NAMES[id].en, nameZh: AGENCY_NAMES[id].zh })),
    incidentTypes: INCIDENT_TYPES.map((t) => ({ id: t.id, name: t.en, nameZh: t.zh, agencies: [...t.agencies], defaultPriority: t.defaultPriority })),
    unitTypes: UNIT_TYPES.map((t) => ({ id: t.id, name: t.en, nameZh: t.zh, agency: t.agency, speedKmh: t.speedKmh })),
    priorities: PRIORITIES.map((id) => ({ id, name: PRIORITY_NAMES[id].en, nameZh: PRIORITY_NAMES[id].zh })),
    sources: INCIDENT_SOURCES.map((id) => ({ id, name: SOURCE_NAMES[id].en, nameZh: SOURCE_NAMES[id].zh })),
    roles: ROLES.map((id) => ({ id, name: ROLE_NAMES[id].en, nameZh: ROLE_NAMES[id].zh })),
    unitStatuses: [...ASSIGNED_UNIT_STATUSES],
    tileUrl: options.tileUrl ?? null,
    demo: options.demo,
  };

  app.get(
    '/api/config',
    { schema: { tags: ['config'], summary: 'Agencies, incident and unit types, priorities, sources and roles', response: { 200: CatalogBody, ...problems(429) } } },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return body;
    },
  );
};

export default catalog;
