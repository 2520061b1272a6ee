// Unit commands: register (admin), readiness (in / out of service), location reports.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from 'typebox';
import { UNIT_LIMITS } from '../../domain/index.ts';
import { newId } from '../../eventstore/eventIds.ts';
import { units } from '../commands/aggregates.ts';
import { handleCommand } from '../commands/commandHandler.ts';
import { allowRoles, requireUnitInScope } from '../auth/guards.ts';
import { existingUnit } from '../http/found.ts';
import { runCommand } from '../http/runCommand.ts';
import { AgencyId, Closed, CommandHeaders, CommandResult, IdParams, Latitude, Location, Longitude, problems, Text, UnitTypeId } from '../http/schemas.ts';
import type { CommandPluginOptions } from './incidents.ts';

const RegisterBody = Closed({
  callSign: Text(UNIT_LIMITS.callSign, { minLength: 1 }),
  agency: AgencyId,
  type: UnitTypeId,
  homeStation: Text(UNIT_LIMITS.homeStation, { minLength: 1 }),
  position: Type.Optional(Location),
});

const ReadinessBody = Closed({
  status: Type.Enum(['available', 'out_of_service']),
  reason: Type.Optional(Text(UNIT_LIMITS.reason, { minLength: 1 })),
});

const LocationBody = Closed({
  lat: Latitude,
  lng: Longitude,
  heading: Type.Optional(Type.Number({ minimum: 0, maximum: 360 })),
  speedKmh: Type.Optional(Type.Number({ minimum: 0, maximum: UNIT_LIMITS.maxSpeedKmh })),
});

const security = [{ bearerAuth: [] }];
const commandResponses = (created = false) => ({ [created ? 201 : 200]: CommandResult, ...problems(400, 401, 403, 404, 409, 412, 422, 429, 503) });

const unitsPlugin: FastifyPluginAsync<CommandPluginOptions> = async (fastify, { store, sql }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/api/units',
    {
      onRequest: allowRoles(['admin'], 'register units'),
      schema: { tags: ['units'], summary: 'Register a unit (admin)', security, headers: CommandHeaders, body: RegisterBody, response: commandResponses(true) },
    },
    (request, reply) => {
      const { callSign, agency, type, homeStation, position } = request.body;
      return runCommand(request, reply, sql, {
        reserve: () => ({ unitId: newId() }),
        execute: async ({ meta, reserved }) => {
          const unitId = reserved.unitId ?? newId();
          const result = await handleCommand(
            store,
            units,
            unitId,
            { type: 'RegisterUnit', data: { unitId, agency, callSign, unitType: type, homeStation, ...(position && { position }) } },
            meta,
          );
          return { id: unitId, revision: result.revision, created: true, location: `/api/units/${unitId}` };
        },
      });
    },
  );

  app.post(
    '/api/units/:id/status',
    {
      onRequest: allowRoles(['dispatcher', 'supervisor', 'admin'], 'put units in or out of service'),
      schema: {
        tags: ['units'],
        summary: 'Put a unit out of service (with a reason) or back in service',
        security,
        headers: CommandHeaders,
        params: IdParams,
        body: ReadinessBody,
        response: commandResponses(),
      },
    },
    (request, reply) => {
      const unitId = request.params.id;
      const { status, reason } = request.body;
      return runCommand(request, reply, sql, {
        ...(reason !== undefined && { reason }),
        execute: async ({ meta, ifMatch }) => {
          const result = await handleCommand(
            store,
            units,
            unitId,
            // A missing reason reaches the domain as missing, so its refusal says "required", not "blank".
            status === 'available' ? { type: 'ReturnToService', data: {} } : { type: 'MarkOutOfService', data: { reason: reason as string } },
            meta,
            { ...(ifMatch !== undefined && { ifMatch }), authorize: (state) => requireUnitInScope(request.user, existingUnit(state, unitId)) },
          );
          return { id: unitId, revision: result.revision };
        },
      });
    },
  );

  app.post(
    '/api/units/:id/location',
    {
      onRequest: allowRoles(['dispatcher', 'supervisor', 'admin'], 'report unit locations'),
      schema: { tags: ['units'], summary: "Report a unit's position", security, headers: CommandHeaders, params: IdParams, body: LocationBody, response: commandResponses() },
    },
    (request, reply) => {
      const unitId = request.params.id;
      const { lat, lng, heading, speedKmh } = request.body;
      return runCommand(request, reply, sql, {
        execute: async ({ meta, ifMatch }) => {
          const result = await handleCommand(
            store,
            units,
            unitId,
            { type: 'ReportLocation', data: { position: { lat, lng }, ...(heading !== undefined && { heading }), ...(speedKmh !== undefined && { speedKmh }) } },
            meta,
            { ...(ifMatch !== undefined && { ifMatch }), authorize: (state) => requireUnitInScope(request.user, existingUnit(state, unitId)) },
          );
          return { id: unitId, revision: result.revision };
        },
      });
    },
  );
};

export default unitsPlugin;
