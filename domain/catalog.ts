// The city's vocabulary: agencies, incident types and the agencies each one needs, unit types.
// Plain data so the web app can import it as a type source and the API can serve it from /api/config.

export const AGENCIES = ['police', 'traffic', 'fire', 'ems', 'safety', 'urban'] as const;
export type Agency = (typeof AGENCIES)[number];

export const AGENCY_NAMES: Record<Agency, { en: string; zh: string }> = {
  police: { en: 'Public Security (Police)', zh: '公安' },
  traffic: { en: 'Traffic Police', zh: '交警' },
  fire: { en: 'Fire and Rescue', zh: '消防救援' },
  ems: { en: 'Emergency Medical (120)', zh: '急救中心' },
  safety: { en: 'Work-Safety Inspection', zh: '应急管理（安全生产）' },
  urban: { en: 'Urban Management Enforcement', zh: '城市管理综合执法' },
};

export interface IncidentTypeInfo {
  id: string;
  en: string;
  zh: string;
  agencies: readonly Agency[];
  defaultPriority: Priority;
}

export const INCIDENT_TYPES = [
  { id: 'fire', en: 'Fire', zh: '火灾', agencies: ['fire', 'ems'], defaultPriority: 1 },
  { id: 'traffic_accident', en: 'Traffic accident', zh: '交通事故', agencies: ['traffic'], defaultPriority: 3 },
  { id: 'traffic_accident_injuries', en: 'Traffic accident with injuries', zh: '交通事故（有人员受伤）', agencies: ['traffic', 'ems', 'fire'], defaultPriority: 2 },
  { id: 'traffic_congestion', en: 'Traffic congestion', zh: '交通拥堵', agencies: ['traffic'], defaultPriority: 4 },
  { id: 'medical', en: 'Medical emergency', zh: '医疗急救', agencies: ['ems'], defaultPriority: 2 },
  { id: 'public_order', en: 'Public order', zh: '治安事件', agencies: ['police'], defaultPriority: 3 },
  { id: 'crime_in_progress', en: 'Crime in progress', zh: '正在发生的刑事案件', agencies: ['police'], defaultPriority: 1 },
  { id: 'hazmat', en: 'Hazardous materials', zh: '危险化学品泄漏', agencies: ['fire', 'safety', 'ems', 'police'], defaultPriority: 1 },
  { id: 'gas_leak', en: 'Gas leak', zh: '燃气泄漏', agencies: ['fire', 'safety'], defaultPriority: 2 },
  { id: 'work_safety_violation', en: 'Work-safety violation', zh: '安全生产违法', agencies: ['safety'], defaultPriority: 4 },
  { id: 'illegal_construction', en: 'Illegal construction', zh: '违法建设', agencies: ['urban'], defaultPriority: 4 },
  { id: 'urban_management', en: 'Urban management case', zh: '城市管理案件', agencies: ['urban'], defaultPriority: 5 },
  { id: 'flooding', en: 'Flooding / waterlogging', zh: '城市内涝', agencies: ['urban', 'fire'], defaultPriority: 2 },
  // Automatic fire alarms (IoT smoke/fire detectors, SF "Alarms"), rescues and service calls: issue 7.
  { id: 'fire_alarm', en: 'Fire alarm activation', zh: '火灾报警', agencies: ['fire'], defaultPriority: 2 },
  { id: 'water_rescue', en: 'Water rescue', zh: '水域救援', agencies: ['fire', 'ems'], defaultPriority: 1 },
  { id: 'technical_rescue', en: 'Technical rescue (elevator, confined space)', zh: '抢险救援（电梯等）', agencies: ['fire'], defaultPriority: 2 },
  { id: 'service_call', en: 'Service call / citizen assist', zh: '社会救助', agencies: ['fire'], defaultPriority: 4 },
] as const satisfies readonly IncidentTypeInfo[];

export type IncidentType = (typeof INCIDENT_TYPES)[number]['id'];
export const INCIDENT_TYPE_IDS = INCIDENT_TYPES.map((t) => t.id) as readonly IncidentType[];

export function incidentTypeInfo(type: string): IncidentTypeInfo | undefined {
  return INCIDENT_TYPES.find((t) => t.id === type);
}

export const PRIORITIES = [1, 2, 3, 4, 5] as const;
/** 1 is the most urgent (life at risk now), 5 the least (a case to be handled within days). */
export type Priority = (typeof PRIORITIES)[number];

export const INCIDENT_SOURCES = ['phone', 'hotline_12345', 'sensor', 'patrol'] as const;
export type IncidentSource = (typeof INCIDENT_SOURCES)[number];

export const UNIT_TYPES = [
  { id: 'patrol_car', agency: 'police', en: 'Patrol car', zh: '巡逻车', speedKmh: 45 },
  { id: 'traffic_patrol', agency: 'traffic', en: 'Traffic patrol', zh: '交警巡逻车', speedKmh: 45 },
  { id: 'motorcycle', agency: 'traffic', en: 'Traffic motorcycle', zh: '交警摩托车', speedKmh: 50 },
  { id: 'engine', agency: 'fire', en: 'Fire engine', zh: '消防车', speedKmh: 40 },
  { id: 'ladder', agency: 'fire', en: 'Ladder truck', zh: '云梯车', speedKmh: 35 },
  { id: 'rescue', agency: 'fire', en: 'Rescue truck', zh: '抢险救援车', speedKmh: 40 },
  { id: 'ambulance', agency: 'ems', en: 'Ambulance', zh: '救护车', speedKmh: 50 },
  { id: 'inspection_team', agency: 'safety', en: 'Inspection team', zh: '安全检查组', speedKmh: 35 },
  { id: 'enforcement_team', agency: 'urban', en: 'Enforcement team', zh: '城管执法队', speedKmh: 35 },
] as const satisfies readonly { id: string; agency: Agency; en: string; zh: string; speedKmh: number }[];
export type UnitType = (typeof UNIT_TYPES)[number]['id'];
export const UNIT_TYPE_IDS = UNIT_TYPES.map((t) => t.id) as readonly UnitType[];

/** An agency's everyday unit: the first of its types above (a patrol car for police, an engine for fire, …). */
export function primaryUnitType(agency: Agency): UnitType {
  return UNIT_TYPES.find((t) => t.agency === agency)!.id;
}

export const ROLES = ['dispatcher', 'supervisor', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Location {
  lat: number;
  lng: number;
}
