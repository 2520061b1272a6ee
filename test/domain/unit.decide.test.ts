import { describe, expect, it } from 'vitest';
import { fold } from '../../domain/decider.ts';
import type { UnitCommand } from '../../domain/unit/unit.commands.ts';
import { unitDecider } from '../../domain/unit/unit.decider.ts';
import { unitView } from '../../domain/unit/unit.view.ts';
import { spec } from '../support/givenWhenThen.ts';
import {
  INCIDENT_ID,
  OTHER_INCIDENT_ID,
  UNIT_ID,
  registerCommand,
  unitCleared,
  unitDispatched,
  unitEnRoute,
  unitOnScene,
  unitOutOfService,
  unitRegistered,
  unitReleased,
  unitTransporting,
} from './fixtures.ts';

const unit = spec(unitDecider);
const registerWith = (data: Record<string, unknown>) => ({ ...registerCommand, data: { ...registerCommand.data, ...data } }) as UnitCommand;

describe('RegisterUnit', () => {
  it('registers a unit', () => {
    unit.given([]).when(registerCommand).then([unitRegistered]);
  });

  it('refuses a unit type of another agency, listing the right ones', () => {
    unit
      .given([])
      .when(registerWith({ agency: 'police' }))
      .thenThrows('invalid_payload', /A fire engine belongs to fire, not police; police units are patrol_car/);
  });

  it.each([
    [{ unitType: 'tank' }, /Unknown unit type "tank"/],
    [{ agency: 'navy' }, /Unknown agency "navy"/],
    [{ callSign: '' }, /call sign must not be blank/],
    [{ callSign: 'E'.repeat(33) }, /at most 32/],
    [{ homeStation: '  ' }, /home station must not be blank/],
    [{ position: { lat: 100, lng: 0 } }, /Latitude/],
  ])('refuses %j', (data, message) => {
    unit.given([]).when(registerWith(data)).thenThrows('invalid_payload', message);
  });

  it('accepts a 32-character call sign and no position', () => {
    const { position: _, ...withoutPosition } = registerCommand.data;
    unit
      .given([])
      .when({ type: 'RegisterUnit', data: { ...withoutPosition, callSign: 'E'.repeat(32) } })
      .then([{ type: 'UnitRegistered', data: { ...withoutPosition, callSign: 'E'.repeat(32) } }]);
  });

  it('refuses to register the same unit twice', () => {
    unit.given([unitRegistered]).when(registerCommand).thenThrows('conflict', /Unit E12 is already registered/);
  });
});

describe('commands before registration', () => {
  it('are refused as not found', () => {
    unit.given([]).when({ type: 'DispatchUnit', data: { incidentId: INCIDENT_ID } }).thenThrows('not_found', /has not been registered/);
  });
});

describe('DispatchUnit', () => {
  it('reserves an available, idle unit for an incident', () => {
    unit.given([unitRegistered]).when({ type: 'DispatchUnit', data: { incidentId: INCIDENT_ID } }).then([unitDispatched]);
  });

  it('refuses a unit already serving an incident, naming it', () => {
    const error = unit
      .given([unitRegistered, unitDispatched])
      .when({ type: 'DispatchUnit', data: { incidentId: OTHER_INCIDENT_ID } })
      .thenThrows('conflict', /^Unit E12 is already dispatched to INC-1a2b3c4d\.$/);
    expect(error.details).toMatchObject({ readiness: 'available', assignment: 'dispatched' });
  });

  it('says where the unit is when it has moved on', () => {
    unit
      .given([unitRegistered, unitDispatched, unitEnRoute, unitOnScene])
      .when({ type: 'DispatchUnit', data: { incidentId: OTHER_INCIDENT_ID } })
      .thenThrows('conflict', /Unit E12 is already on scene at INC-1a2b3c4d/);
  });

  it('refuses an out-of-service unit, giving the reason', () => {
    unit
      .given([unitRegistered, unitOutOfService])
      .when({ type: 'DispatchUnit', data: { incidentId: INCIDENT_ID } })
      .thenThrows('invalid_state', /Unit E12 is out of service \(Flat tyre\); return it to service before dispatching it/);
  });

  it('accepts the unit again once cleared or released', () => {
    unit.given([unitRegistered, unitDispatched, unitCleared]).when({ type: 'DispatchUnit', data: { incidentId: OTHER_INCIDENT_ID } }).then([
      { type: 'UnitDispatched', data: { incidentId: OTHER_INCIDENT_ID } },
    ]);
    unit.given([unitRegistered, unitDispatched, unitReleased]).when({ type: 'DispatchUnit', data: { incidentId: OTHER_INCIDENT_ID } }).then([
      { type: 'UnitDispatched', data: { incidentId: OTHER_INCIDENT_ID } },
    ]);
  });
});

describe('ChangeUnitStatus', () => {
  const change = (status: string, incidentId = INCIDENT_ID, destination?: string) =>
    ({ type: 'ChangeUnitStatus', data: { incidentId, status, ...(destination ? { destination } : {}) } }) as UnitCommand;

  it('maps each field status to its event', () => {
    unit.given([unitRegistered, unitDispatched]).when(change('en_route')).then([unitEnRoute]);
    unit.given([unitRegistered, unitDispatched]).when(change('on_scene')).then([unitOnScene]);
    unit.given([unitRegistered, unitDispatched, unitOnScene]).when(change('transporting', INCIDENT_ID, "Ji'an Central Hospital")).then([unitTransporting]);
    unit.given([unitRegistered, unitDispatched, unitOnScene, unitTransporting]).when(change('at_hospital')).then([
      { type: 'UnitArrivedAtHospital', data: { incidentId: INCIDENT_ID } },
    ]);
    unit.given([unitRegistered, unitDispatched, unitEnRoute]).when(change('cleared')).then([unitCleared]);
  });

  it('refuses a report for an incident the unit does not serve', () => {
    unit
      .given([unitRegistered, unitDispatched])
      .when(change('en_route', OTHER_INCIDENT_ID))
      .thenThrows('invalid_state', /Unit E12 is dispatched to INC-1a2b3c4d, not serving INC-deadbeef/);
  });

  it('refuses an idle unit', () => {
    unit.given([unitRegistered]).when(change('en_route')).thenThrows('invalid_state', /Unit E12 is not serving any incident; dispatch it first/);
  });

  it('refuses a skipped or backward step, listing the next ones', () => {
    unit
      .given([unitRegistered, unitDispatched, unitOnScene])
      .when(change('en_route'))
      .thenThrows('invalid_state', /Unit E12 is on scene at INC-1a2b3c4d; next it can be transporting or cleared, not en route/);
    unit
      .given([unitRegistered, unitDispatched])
      .when(change('transporting'))
      .thenThrows('invalid_state', /next it can be en route, on scene or cleared, not transporting/);
  });

  it('refuses an unknown status', () => {
    unit.given([unitRegistered, unitDispatched]).when(change('lunch')).thenThrows('invalid_payload', /Unknown unit status "lunch"/);
  });

  it('keeps the unit on its incident while out of service, so it can still be cleared', () => {
    unit.given([unitRegistered, unitDispatched, unitEnRoute, unitOutOfService]).when(change('cleared')).then([unitCleared]);
  });
});

describe('ReleaseAssignment', () => {
  it('releases a reservation the incident refused', () => {
    unit
      .given([unitRegistered, unitDispatched])
      .when({ type: 'ReleaseAssignment', data: { incidentId: INCIDENT_ID, reason: 'Incident refused the assignment' } })
      .then([unitReleased]);
  });
  it('is refused once the unit has moved', () => {
    unit
      .given([unitRegistered, unitDispatched, unitEnRoute])
      .when({ type: 'ReleaseAssignment', data: { incidentId: INCIDENT_ID, reason: 'x' } })
      .thenThrows('invalid_state', /Unit E12 is already en route to INC-1a2b3c4d; an assignment can only be released before the unit moves/);
  });
  it('is refused for another incident', () => {
    unit
      .given([unitRegistered, unitDispatched])
      .when({ type: 'ReleaseAssignment', data: { incidentId: OTHER_INCIDENT_ID, reason: 'x' } })
      .thenThrows('invalid_state', /not serving INC-deadbeef/);
  });
  it('needs a reason', () => {
    unit
      .given([unitRegistered, unitDispatched])
      .when({ type: 'ReleaseAssignment', data: { incidentId: INCIDENT_ID, reason: '' } })
      .thenThrows('invalid_payload', /reason must not be blank/);
  });
  it('has nothing to release on an idle unit', () => {
    unit.given([unitRegistered]).when({ type: 'ReleaseAssignment', data: { incidentId: INCIDENT_ID, reason: 'x' } }).thenThrows('invalid_state', /has no assignment to release/);
  });
});

describe('MarkOutOfService and ReturnToService', () => {
  it('takes a unit out of service even while assigned', () => {
    unit.given([unitRegistered, unitDispatched, unitEnRoute]).when({ type: 'MarkOutOfService', data: { reason: 'Flat tyre' } }).then([unitOutOfService]);
  });
  it('needs a reason', () => {
    unit.given([unitRegistered]).when({ type: 'MarkOutOfService', data: { reason: ' ' } }).thenThrows('invalid_payload', /reason must not be blank/);
  });
  it('refuses twice', () => {
    unit.given([unitRegistered, unitOutOfService]).when({ type: 'MarkOutOfService', data: { reason: 'again' } }).thenThrows('invalid_state', /already out of service \(Flat tyre\)/);
  });
  it('returns to service only when out of service', () => {
    unit.given([unitRegistered, unitOutOfService]).when({ type: 'ReturnToService', data: {} }).then([{ type: 'UnitReturnedToService', data: {} }]);
    unit.given([unitRegistered]).when({ type: 'ReturnToService', data: {} }).thenThrows('invalid_state', /Unit E12 is already in service/);
  });
});

describe('ReportLocation', () => {
  it('records a position in any registered state', () => {
    unit
      .given([unitRegistered, unitOutOfService])
      .when({ type: 'ReportLocation', data: { position: { lat: 27.2, lng: 115 }, heading: 180, speedKmh: 0 } })
      .then([{ type: 'UnitLocationReported', data: { position: { lat: 27.2, lng: 115 }, heading: 180, speedKmh: 0 } }]);
  });
  it.each([
    [{ position: { lat: 0, lng: 181 } }, /Longitude/],
    [{ position: { lat: 0, lng: 0 }, heading: 400 }, /heading must be a number from 0 to 360/],
    [{ position: { lat: 0, lng: 0 }, speedKmh: -1 }, /speed must be a number from 0 to 400/],
  ])('refuses %j', (data, message) => {
    unit.given([unitRegistered]).when({ type: 'ReportLocation', data } as UnitCommand).thenThrows('invalid_payload', message);
  });
});

describe('unitView', () => {
  it('is null before registration', () => {
    expect(unitView(unitDecider.initialState())).toBeNull();
  });
  it('shows readiness, assignment and position', () => {
    const state = fold(unitDecider, [
      unitRegistered,
      unitDispatched,
      unitOnScene,
      unitTransporting,
      unitOutOfService,
      { type: 'UnitLocationReported', data: { position: { lat: 27.3, lng: 115.1 }, heading: 45 } },
    ]);
    expect(unitView(state)).toEqual({
      id: UNIT_ID,
      agency: 'fire',
      callSign: 'E12',
      unitType: 'engine',
      homeStation: 'Jizhou Fire Station 1',
      readiness: 'out_of_service',
      status: 'transporting',
      incidentId: INCIDENT_ID,
      position: { lat: 27.3, lng: 115.1 },
      heading: 45,
      destination: "Ji'an Central Hospital",
      outOfServiceReason: 'Flat tyre',
      allowedCommands: ['ReturnToService', 'ChangeUnitStatus', 'ReportLocation'],
    });
  });
  it('forgets the incident once cleared', () => {
    const view = unitView(fold(unitDecider, [unitRegistered, unitDispatched, unitCleared]));
    expect(view).toMatchObject({ status: 'idle', incidentId: null, readiness: 'available' });
  });
});

describe('unknown commands', () => {
  it('are refused as invalid payload, not silently ignored', () => {
    unit.given([unitRegistered]).when({ type: 'Teleport', data: {} } as unknown as UnitCommand).thenThrows('invalid_payload', /Unknown unit command "Teleport"/);
  });
});
