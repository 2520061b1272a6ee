import type { Agency, Location, UnitType } from '../catalog.ts';
import type { AssignedUnitStatus } from '../incident/incident.events.ts';

export type UnitCommand =
  | {
      type: 'RegisterUnit';
      data: { unitId: string; agency: Agency; callSign: string; unitType: UnitType; homeStation: string; position?: Location };
    }
  | { type: 'MarkOutOfService'; data: { reason: string } }
  | { type: 'ReturnToService'; data: Record<string, never> }
  | { type: 'DispatchUnit'; data: { incidentId: string } }
  /** en_route | on_scene | transporting | at_hospital | cleared, always for the incident the unit serves. */
  | { type: 'ChangeUnitStatus'; data: { incidentId: string; status: AssignedUnitStatus; destination?: string } }
  | { type: 'ReleaseAssignment'; data: { incidentId: string; reason: string } }
  | { type: 'ReportLocation'; data: { position: Location; heading?: number; speedKmh?: number } };

export type UnitCommandType = UnitCommand['type'];
