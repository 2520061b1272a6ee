import { describe, expect, it } from 'vitest';
import { fold } from '../../domain/decider.ts';
import type { IncidentCommand } from '../../domain/incident/incident.commands.ts';
import { incidentDecider } from '../../domain/incident/incident.decider.ts';
import type { IncidentEvent } from '../../domain/incident/incident.events.ts';
import { incidentLabel } from '../../domain/incident/incident.label.ts';
import { incidentView } from '../../domain/incident/incident.view.ts';
import { spec } from '../support/givenWhenThen.ts';
import {
  A3,
  E1,
  INCIDENT_ID,
  T7,
  assignedA3,
  assignedE1,
  cancelled,
  closed,
  reopened,
  reportCommand,
  reported,
  resolved,
  triaged,
  unitStatus,
} from './fixtures.ts';

const incident = spec(incidentDecider);
const dispatched = [reported, triaged, assignedE1];
const cmd = (command: IncidentCommand) => command;

describe('incidentLabel', () => {
  it('is INC- and the last 8 hex digits of the id', () => {
    expect(incidentLabel(INCIDENT_ID)).toBe('INC-1a2b3c4d');
    expect(incidentLabel('0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B')).toBe('INC-2e3f4a5b');
  });
  it('falls back to the whole id when it is too short to shorten', () => {
    expect(incidentLabel('x-1')).toBe('INC-x-1');
  });
});

describe('ReportIncident', () => {
  it('records the report, with source phone and the agencies of its type by default', () => {
    incident.given([]).when(reportCommand).then([reported]);
  });

  it('adds chosen agencies to those of the type, trims text and drops blank optional fields', () => {
    incident
      .given([])
      .when({
        type: 'ReportIncident',
        data: {
          incidentId: INCIDENT_ID,
          type: 'medical',
          priority: 2,
          location: { lat: 27.1, lng: 114.9 },
          address: '   ',
          description: '  Elderly man collapsed  ',
          source: 'hotline_12345',
          reporter: { name: ' Li Wei ', phone: '' },
          agencies: ['police', 'ems'],
        },
      })
      .then([
        {
          type: 'IncidentReported',
          data: {
            incidentId: INCIDENT_ID,
            type: 'medical',
            priority: 2,
            location: { lat: 27.1, lng: 114.9 },
            description: 'Elderly man collapsed',
            source: 'hotline_12345',
            reporter: { name: 'Li Wei' },
            agencies: ['ems', 'police'],
          },
        },
      ]);
  });

  const withData = (data: Record<string, unknown>) => cmd({ ...reportCommand, data: { ...reportCommand.data, ...data } } as IncidentCommand);

  it.each([
    [{ priority: 0 }, /Priority must be a whole number from 1/],
    [{ priority: 2.5 }, /Priority must be a whole number from 1/],
    [{ priority: '1' }, /Priority must be a whole number from 1/],
    [{ type: 'alien_landing' }, /Unknown incident type "alien_landing"/],
    [{ agencies: ['army'] }, /Unknown agency "army"/],
    [{ location: { lat: 91, lng: 0 } }, /Latitude must be a number from -90 to 90/],
    [{ location: { lat: 0, lng: Number.NaN } }, /Longitude must be a number from -180 to 180/],
    [{ location: { lat: 0, lng: -180.5 } }, /Longitude/],
    [{ address: 'x'.repeat(501) }, /address is 501 characters long; at most 500/],
    [{ description: 'x'.repeat(4001) }, /description is 4001 characters long; at most 4000/],
    [{ source: 'pigeon' }, /Unknown source "pigeon"/],
    [{ incidentId: ' ' }, /incident id must not be blank/],
  ])('rejects %j', (data, message) => {
    incident.given([]).when(withData(data)).thenThrows('invalid_payload', message);
  });

  it('accepts the limits themselves', () => {
    const events = incident
      .given([])
      .when(withData({ address: 'a'.repeat(500), description: 'd'.repeat(4000), location: { lat: -90, lng: 180 }, priority: 5 }))
      .then([expect.objectContaining({ type: 'IncidentReported' }) as unknown as IncidentEvent]);
    expect(events[0]!.data).toMatchObject({ priority: 5, location: { lat: -90, lng: 180 } });
  });

  it('refuses a second report of the same incident', () => {
    incident.given([reported, triaged]).when(reportCommand).thenThrows('conflict', /Incident INC-1a2b3c4d has already been reported; it is triaged/);
  });
});

describe('commands before the incident exists', () => {
  it('are refused as not found', () => {
    incident.given([]).when({ type: 'AddNote', data: { text: 'hello' } }).thenThrows('not_found', /has not been reported/);
  });
});

describe('TriageIncident', () => {
  it('keeps current values for fields it does not set', () => {
    incident
      .given([reported])
      .when({ type: 'TriageIncident', data: {} })
      .then([{ type: 'IncidentTriaged', data: { priority: 2, type: 'traffic_accident_injuries', agencies: ['traffic', 'ems', 'fire'] } }]);
  });

  it('unions the new type’s agencies with those the incident already needs', () => {
    const minor: IncidentEvent = { ...reported, data: { ...(reported.data as object), type: 'traffic_accident', agencies: ['traffic'] } } as IncidentEvent;
    incident
      .given([minor])
      .when({ type: 'TriageIncident', data: { type: 'fire', priority: 1 } })
      .then([{ type: 'IncidentTriaged', data: { priority: 1, type: 'fire', agencies: ['fire', 'ems', 'traffic'] } }]);
  });

  it('uses an explicit agency list instead of the current one, still with the type’s agencies', () => {
    incident
      .given([reported, triaged])
      .when({ type: 'TriageIncident', data: { type: 'medical', agencies: ['police'] } })
      .then([{ type: 'IncidentTriaged', data: { priority: 2, type: 'medical', agencies: ['ems', 'police'] } }]);
  });

  it('is refused once units are dispatched, saying what is allowed instead', () => {
    const error = incident
      .given(dispatched)
      .when({ type: 'TriageIncident', data: { priority: 1 } })
      .thenThrows('invalid_state', /^Incident INC-1a2b3c4d is dispatched; allowed now: escalate, assign a unit, update a unit's status, add a note, resolve or cancel, not triage\.$/);
    expect(error.details).toMatchObject({
      state: 'dispatched',
      allowed: ['EscalateIncident', 'RecordUnitAssignment', 'RecordUnitStatus', 'AddNote', 'ResolveIncident', 'CancelIncident'],
    });
  });
});

describe('EscalateIncident', () => {
  it('raises the priority', () => {
    incident.given(dispatched).when({ type: 'EscalateIncident', data: { priority: 1 } }).then([{ type: 'IncidentEscalated', data: { priority: 1, agenciesAdded: [] } }]);
  });

  it('records only the agencies that are new', () => {
    incident
      .given(dispatched)
      .when({ type: 'EscalateIncident', data: { agencies: ['fire', 'police', 'safety', 'police'] } })
      .then([{ type: 'IncidentEscalated', data: { agenciesAdded: ['police', 'safety'] } }]);
  });

  it('refuses an escalation that changes nothing', () => {
    incident
      .given(dispatched)
      .when({ type: 'EscalateIncident', data: { priority: 2, agencies: ['ems'] } })
      .thenThrows('invalid_payload', /Nothing to escalate: INC-1a2b3c4d is already P2 with traffic, ems and fire/);
  });

  it('refuses to lower the priority', () => {
    incident.given(dispatched).when({ type: 'EscalateIncident', data: { priority: 4 } }).thenThrows('invalid_payload', /cannot lower the priority of INC-1a2b3c4d from P2 to P4/);
  });

  it('counts in the view and adds agencies', () => {
    const state = fold(incidentDecider, [...dispatched, { type: 'IncidentEscalated', data: { priority: 1, agenciesAdded: ['police'] } }]);
    expect(incidentView(state)).toMatchObject({ priority: 1, agencies: ['traffic', 'ems', 'fire', 'police'], escalationCount: 1 });
  });
});

describe('RecordUnitAssignment', () => {
  it('moves a triaged incident to dispatched', () => {
    incident.given([reported, triaged]).when({ type: 'RecordUnitAssignment', data: { unitId: E1, agency: 'fire', callSign: 'E1' } }).then([assignedE1]);
    expect(incidentView(fold(incidentDecider, dispatched))?.status).toBe('dispatched');
  });

  it('refuses a unit that is already working the incident', () => {
    incident
      .given([...dispatched, unitStatus(E1, 'en_route')])
      .when({ type: 'RecordUnitAssignment', data: { unitId: E1, agency: 'fire', callSign: 'E1' } })
      .thenThrows('conflict', /Unit E1 is already assigned to INC-1a2b3c4d \(en route\)/);
  });

  it('accepts a unit again after it was cleared from the same incident', () => {
    incident
      .given([...dispatched, unitStatus(E1, 'cleared')])
      .when({ type: 'RecordUnitAssignment', data: { unitId: E1, agency: 'fire', callSign: 'E1' } })
      .then([assignedE1]);
  });

  it('refuses a unit of an agency the incident does not need, naming those it does', () => {
    incident
      .given(dispatched)
      .when({ type: 'RecordUnitAssignment', data: { unitId: T7, agency: 'police', callSign: 'P7' } })
      .thenThrows('invalid_payload', /INC-1a2b3c4d needs units from traffic, ems or fire; unit P7 belongs to police/);
  });

  it('refuses a blank or overlong call sign', () => {
    incident.given(dispatched).when({ type: 'RecordUnitAssignment', data: { unitId: A3, agency: 'ems', callSign: ' ' } }).thenThrows('invalid_payload', /call sign must not be blank/);
    incident
      .given(dispatched)
      .when({ type: 'RecordUnitAssignment', data: { unitId: A3, agency: 'ems', callSign: 'A'.repeat(33) } })
      .thenThrows('invalid_payload', /at most 32/);
  });
});

describe('RecordUnitStatus', () => {
  it('moves the incident on scene when a unit arrives', () => {
    incident.given(dispatched).when({ type: 'RecordUnitStatus', data: { unitId: E1, status: 'on_scene' } }).then([unitStatus(E1, 'on_scene')]);
    const state = fold(incidentDecider, [...dispatched, unitStatus(E1, 'on_scene')]);
    expect(incidentView(state)).toMatchObject({ status: 'on_scene', units: [{ unitId: E1, callSign: 'E1', agency: 'fire', status: 'on_scene' }] });
  });

  it('keeps the incident dispatched while units are only en route', () => {
    const state = fold(incidentDecider, [...dispatched, unitStatus(E1, 'en_route')]);
    expect(incidentView(state)?.status).toBe('dispatched');
  });

  it('counts a unit that skips straight to transporting as having reached the scene', () => {
    incident.given(dispatched).when({ type: 'RecordUnitStatus', data: { unitId: E1, status: 'transporting' } }).then([unitStatus(E1, 'transporting')]);
    expect(incidentView(fold(incidentDecider, [...dispatched, unitStatus(E1, 'transporting')]))?.status).toBe('on_scene');
  });

  it('refuses a unit that is not assigned to the incident', () => {
    incident.given(dispatched).when({ type: 'RecordUnitStatus', data: { unitId: A3, status: 'en_route' } }).thenThrows('invalid_state', /not assigned to INC-1a2b3c4d/);
  });

  it('refuses going backwards, listing where the unit can go next', () => {
    incident
      .given([...dispatched, unitStatus(E1, 'on_scene')])
      .when({ type: 'RecordUnitStatus', data: { unitId: E1, status: 'en_route' } })
      .thenThrows('invalid_state', /Unit E1 is already on scene at INC-1a2b3c4d; it can only move on to transporting, at hospital or cleared, not to en route/);
  });

  it('refuses repeating the same status', () => {
    incident
      .given([...dispatched, unitStatus(E1, 'en_route')])
      .when({ type: 'RecordUnitStatus', data: { unitId: E1, status: 'en_route' } })
      .thenThrows('invalid_state', /already en route/);
  });

  it('treats cleared as the end of that assignment', () => {
    incident
      .given([...dispatched, unitStatus(E1, 'cleared')])
      .when({ type: 'RecordUnitStatus', data: { unitId: E1, status: 'on_scene' } })
      .thenThrows('invalid_state', /Unit E1 has been cleared from INC-1a2b3c4d; assign it again/);
  });

  it('refuses an unknown status', () => {
    incident
      .given(dispatched)
      .when({ type: 'RecordUnitStatus', data: { unitId: E1, status: 'asleep' } } as unknown as IncidentCommand)
      .thenThrows('invalid_payload', /Unknown unit status "asleep"/);
  });
});

describe('AddNote', () => {
  it('records a trimmed note', () => {
    incident.given([reported]).when({ type: 'AddNote', data: { text: '  Caller hung up  ' } }).then([{ type: 'IncidentNoteAdded', data: { text: 'Caller hung up' } }]);
  });
  it('refuses a blank note', () => {
    incident.given([reported]).when({ type: 'AddNote', data: { text: ' \n ' } }).thenThrows('invalid_payload', /A note must not be blank/);
  });
  it('refuses a note over 2000 characters and accepts exactly 2000', () => {
    incident.given([reported]).when({ type: 'AddNote', data: { text: 'n'.repeat(2001) } }).thenThrows('invalid_payload', /at most 2000/);
    incident.given([reported]).when({ type: 'AddNote', data: { text: 'n'.repeat(2000) } }).then([{ type: 'IncidentNoteAdded', data: { text: 'n'.repeat(2000) } }]);
  });
  it('is refused on a closed incident: only reopen is allowed', () => {
    const error = incident
      .given([reported, triaged, resolved, closed])
      .when({ type: 'AddNote', data: { text: 'late info' } })
      .thenThrows('invalid_state', /^Incident INC-1a2b3c4d is closed; only reopen is allowed, not add a note\.$/);
    expect(error.details).toMatchObject({ state: 'closed', allowed: ['ReopenIncident'] });
  });
});

describe('ResolveIncident', () => {
  it('resolves a triaged incident handled without units (advice by phone)', () => {
    incident.given([reported, triaged]).when({ type: 'ResolveIncident', data: { summary: 'Advice given by phone' } }).then([
      { type: 'IncidentResolved', data: { summary: 'Advice given by phone' } },
    ]);
  });

  it('is refused while units are still working, naming their call signs', () => {
    const error = incident
      .given([...dispatched, assignedA3, unitStatus(E1, 'on_scene')])
      .when({ type: 'ResolveIncident', data: {} })
      .thenThrows('invalid_state', /INC-1a2b3c4d cannot be resolved while units are still working it: clear units E1, A3 first/);
    expect(error.details).toMatchObject({ state: 'on_scene', activeUnits: [{ callSign: 'E1' }, { callSign: 'A3' }] });
  });

  it('names only the units not yet cleared', () => {
    incident
      .given([...dispatched, assignedA3, unitStatus(E1, 'cleared')])
      .when({ type: 'ResolveIncident', data: {} })
      .thenThrows('invalid_state', /clear units A3 first/);
  });

  it('is refused before triage', () => {
    incident.given([reported]).when({ type: 'ResolveIncident', data: {} }).thenThrows('invalid_state', /INC-1a2b3c4d is reported \(awaiting triage\); allowed now: triage, escalate, add a note or cancel, not resolve/);
  });
});

describe('CancelIncident', () => {
  it('cancels a reported incident with a reason', () => {
    incident.given([reported]).when({ type: 'CancelIncident', data: { reason: ' Duplicate call ' } }).then([cancelled]);
  });
  it('is refused while units are still working', () => {
    incident.given(dispatched).when({ type: 'CancelIncident', data: { reason: 'Hoax' } }).thenThrows('invalid_state', /cannot be cancelled .* clear units E1 first/);
  });
  it('needs a non-blank reason of at most 500 characters', () => {
    incident.given([reported]).when({ type: 'CancelIncident', data: { reason: '' } }).thenThrows('invalid_payload', /reason for cancelling must not be blank/);
    incident.given([reported]).when({ type: 'CancelIncident', data: { reason: 'r'.repeat(501) } }).thenThrows('invalid_payload', /at most 500/);
  });
  it('leaves nothing to do afterwards', () => {
    incident.given([reported, cancelled]).when({ type: 'ReopenIncident', data: { reason: 'oops' } }).thenThrows('invalid_state', /Incident INC-1a2b3c4d is cancelled; nothing more can be done with it/);
  });
});

describe('CloseIncident and ReopenIncident', () => {
  it('closes a resolved incident', () => {
    incident.given([reported, triaged, resolved]).when({ type: 'CloseIncident', data: {} }).then([closed]);
  });
  it('reopens a closed incident back to triaged, keeping the unit history', () => {
    incident.given([reported, triaged, resolved, closed]).when({ type: 'ReopenIncident', data: { reason: 'Second casualty found' } }).then([reopened]);
    const state = fold(incidentDecider, [...dispatched, unitStatus(E1, 'cleared'), resolved, closed, reopened]);
    expect(incidentView(state)).toMatchObject({ status: 'triaged', reopenCount: 1, reopenReason: 'Second casualty found', units: [{ unitId: E1, status: 'cleared' }] });
    expect(incidentView(state)?.summary).toBeUndefined();
  });
  it('needs a reason to reopen', () => {
    incident.given([reported, triaged, resolved]).when({ type: 'ReopenIncident', data: { reason: '   ' } }).thenThrows('invalid_payload', /reason for reopening must not be blank/);
  });
  it('cannot close an incident that is not resolved', () => {
    incident.given(dispatched).when({ type: 'CloseIncident', data: {} }).thenThrows('invalid_state', /is dispatched; .* not close\./);
  });
});

describe('incidentView', () => {
  it('is null before the report and a plain object after', () => {
    expect(incidentView(incidentDecider.initialState())).toBeNull();
    const view = incidentView(fold(incidentDecider, [...dispatched, { type: 'IncidentNoteAdded', data: { text: 'x' } }]));
    expect(view).toEqual({
      id: INCIDENT_ID,
      label: 'INC-1a2b3c4d',
      status: 'dispatched',
      type: 'traffic_accident_injuries',
      priority: 2,
      location: { lat: 27.1138, lng: 114.9865 },
      address: 'Jinggangshan Avenue at Luling Road',
      description: 'Two cars, one driver trapped',
      source: 'phone',
      agencies: ['traffic', 'ems', 'fire'],
      units: [{ unitId: E1, agency: 'fire', callSign: 'E1', status: 'dispatched' }],
      noteCount: 1,
      escalationCount: 0,
      reopenCount: 0,
      allowedCommands: ['EscalateIncident', 'RecordUnitAssignment', 'RecordUnitStatus', 'AddNote', 'ResolveIncident', 'CancelIncident'],
    });
    expect(JSON.parse(JSON.stringify(view))).toEqual(view);
  });
});

describe('unknown commands', () => {
  it('are refused as invalid payload, not silently ignored', () => {
    incident.given([reported]).when({ type: 'DeleteIncident', data: {} } as unknown as IncidentCommand).thenThrows('invalid_payload', /Unknown incident command "DeleteIncident"/);
  });
});
