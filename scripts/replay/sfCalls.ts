// The San Francisco Fire Department "Calls for Service" format (DataSF), read into calls with per-unit times,
// and mapped onto the city's vocabulary. See ../shared/data/README.md.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Agency, IncidentType, Priority, UnitType } from '../../domain/catalog.ts';
import { parseCsvRecords } from '../lib/csv.ts';

/** The file's times are San Francisco wall-clock times. */
export const SF_TIME_ZONE = 'America/Los_Angeles';

export interface SfUnitResponse {
  unitId: string;
  sfUnitType: string;
  stationArea: string;
  /** Epoch milliseconds; undefined when the file has no such time for this unit. */
  dispatch?: number;
  response?: number;
  onScene?: number;
  transport?: number;
  hospital?: number;
  available?: number;
}

export interface SfCall {
  callNumber: string;
  incidentNumber: string;
  callType: string;
  finalPriority: string;
  received: number;
  entry?: number;
  lat: number;
  lng: number;
  address: string;
  units: SfUnitResponse[];
}

/** SF call types onto incident types (domain/catalog.ts). */
export const SF_CALL_TYPES: Record<string, IncidentType> = {
  'Medical Incident': 'medical',
  Alarms: 'fire_alarm',
  'Structure Fire': 'fire',
  'Outside Fire': 'fire',
  'Vehicle Fire': 'fire',
  'Smoke Investigation (Outside)': 'fire',
  'Traffic Collision': 'traffic_accident_injuries',
  'Gas Leak (Natural and LP Gases)': 'gas_leak',
  'Water Rescue': 'water_rescue',
  'Elevator / Escalator Rescue': 'technical_rescue',
  'Electrical Hazard': 'hazmat',
  'Odor (Strange / Unknown)': 'hazmat',
  'Fuel Spill': 'hazmat',
  'Citizen Assist / Service Call': 'service_call',
  'Assist Police': 'service_call',
  Other: 'service_call',
};

export function incidentTypeOf(callType: string): IncidentType {
  return SF_CALL_TYPES[callType] ?? 'service_call';
}

/** SF unit types onto agency and unit type: ambulances are EMS, everything else the fire department. */
export function unitKindOf(sfUnitType: string): { agency: Agency; type: UnitType } {
  switch (sfUnitType) {
    case 'MEDIC':
    case 'PRIVATE':
      return { agency: 'ems', type: 'ambulance' };
    case 'ENGINE':
      return { agency: 'fire', type: 'engine' };
    case 'TRUCK':
      return { agency: 'fire', type: 'ladder' };
    default:
      // CHIEF, RESCUE CAPTAIN, RESCUE SQUAD, SUPPORT, INVESTIGATION…
      return { agency: 'fire', type: 'rescue' };
  }
}

/** SF's final priority "3" is an emergency (lights and siren); "2" is not. */
export function priorityOf(call: Pick<SfCall, 'finalPriority'>, typeDefault: Priority): Priority {
  const urgent: Priority = call.finalPriority === '3' ? 2 : 3;
  return (Math.min(urgent, typeDefault) as Priority) ?? typeDefault;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
// Offsets change only on the hour (DST), so one lookup per zone and UTC hour is enough; the file has 80,000 times.
const offsets = new Map<string, number>();
function wallClockOf(utcMs: number, timeZone: string): number {
  const hour = `${timeZone}@${Math.floor(utcMs / 3_600_000)}`;
  let offset = offsets.get(hour);
  if (offset === undefined) {
    offset = zoneWallClock(utcMs - (utcMs % 3_600_000), timeZone) - (utcMs - (utcMs % 3_600_000));
    offsets.set(hour, offset);
  }
  return utcMs + offset;
}

function zoneWallClock(utcMs: number, timeZone: string): number {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timeZone, format);
  }
  const p = Object.fromEntries(format.formatToParts(utcMs).map((x) => [x.type, x.value]));
  return Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
}

/** "04/07/2020 11:53:08 PM" in `timeZone` → epoch ms; undefined for an empty field. */
export function parseSfTime(text: string, timeZone = SF_TIME_ZONE): number | undefined {
  if (text.trim() === '') return undefined;
  const m = /^(\d\d)\/(\d\d)\/(\d{4}) (\d\d):(\d\d):(\d\d) (AM|PM)$/.exec(text.trim());
  if (!m) throw new Error(`not a time in the SF format (MM/DD/YYYY hh:mm:ss AM/PM): ${JSON.stringify(text)}`);
  const hour12 = Number(m[4]) % 12;
  const wall = Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2]), m[7] === 'PM' ? hour12 + 12 : hour12, Number(m[5]), Number(m[6]));
  // The offset at the wall time, checked once more in case the first guess fell across a DST change.
  let utc = wall - (wallClockOf(wall, timeZone) - wall);
  const again = wall - (wallClockOf(utc, timeZone) - utc);
  if (again !== utc) utc = again;
  return utc;
}

function parseLocation(text: string): { lat: number; lng: number } {
  const m = /^\(\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)$/.exec(text.trim());
  if (!m) throw new Error(`not a location "(lat, lon)": ${JSON.stringify(text)}`);
  return { lat: Number(m[1]), lng: Number(m[2]) };
}

/** Reads the file into calls (one per Call Number), earliest received first; `limit` keeps the first N. */
export function readSfCalls(path: string, options: { limit?: number; timeZone?: string } = {}): SfCall[] {
  return sfCallsFromCsv(readFileSync(path, 'utf8'), options);
}

export function sfCallsFromCsv(text: string, options: { limit?: number; timeZone?: string } = {}): SfCall[] {
  const tz = options.timeZone ?? SF_TIME_ZONE;
  const calls = new Map<string, SfCall>();
  for (const [index, r] of parseCsvRecords(text).entries()) {
    try {
      const callNumber = r['Call Number']!;
      let call = calls.get(callNumber);
      if (!call) {
        const received = parseSfTime(r['Received DtTm'] ?? '', tz);
        if (received === undefined) throw new Error('Received DtTm is empty');
        const entry = parseSfTime(r['Entry DtTm'] ?? '', tz);
        call = {
          callNumber,
          incidentNumber: r['Incident Number'] ?? '',
          callType: r['Call Type'] ?? '',
          finalPriority: r['Final Priority'] ?? '',
          received,
          ...(entry !== undefined && { entry }),
          ...parseLocation(r.Location ?? ''),
          address: [r.Address, r.City].filter((x) => x && x.trim() !== '').join(', '),
          units: [],
        };
        calls.set(callNumber, call);
      }
      const time = (name: string) => parseSfTime(r[name] ?? '', tz);
      const unit: SfUnitResponse = { unitId: r['Unit ID']!, sfUnitType: r['Unit Type'] ?? '', stationArea: r['Station Area'] ?? '' };
      const fields = { dispatch: 'Dispatch DtTm', response: 'Response DtTm', onScene: 'On Scene DtTm', transport: 'Transport DtTm', hospital: 'Hospital DtTm', available: 'Available DtTm' } as const;
      for (const [key, name] of Object.entries(fields) as Array<[keyof typeof fields, string]>) {
        const at = time(name);
        if (at !== undefined) unit[key] = at;
      }
      call.units.push(unit);
    } catch (error) {
      throw new Error(`row ${index + 2}: ${(error as Error).message}`);
    }
  }
  const sorted = [...calls.values()].sort((a, b) => a.received - b.received || a.callNumber.localeCompare(b.callNumber));
  return options.limit === undefined ? sorted : sorted.slice(0, options.limit);
}

/** The SF calls file: `SF_CALLS_CSV`, else `../shared/data/` beside this checkout (where CI lays the dataset). */
export const SF_CALLS_FILE =
  process.env.SF_CALLS_CSV ?? fileURLToPath(new URL('../../../shared/data/sf_fire_calls_2020-04-07_to_04-20.csv', import.meta.url));
