import type { Agency, Location, UnitType } from '../../domain/index.ts';

/**
 * The demo city: stations of Ji'an (吉安) in Jizhou district (吉州区, west of the Gan River), Qingyuan district
 * (青原区, east bank), the Luling new area (庐陵新区) and the Jinggangshan economic and technological
 * development zone (井冈山经开区) to the south-west. Names are plausible, not an official register;
 * positions fall inside the real built-up area (about 27.05–27.16°N, 114.90–115.06°E).
 */
export interface DemoStation {
  /** Short code used in call signs, e.g. "JZ" in "P-JZ-01". */
  code: string;
  agency: Agency;
  zh: string;
  en: string;
  position: Location;
  units: Array<{ type: UnitType; count: number; prefix: string }>;
}

export const JIAN_CENTRE: Location = { lat: 27.11, lng: 114.99 };

export const DEMO_STATIONS: readonly DemoStation[] = [
  // Police 公安
  {
    code: 'JZ',
    agency: 'police',
    zh: '吉州区公安分局',
    en: 'Jizhou District Public Security Sub-bureau',
    position: { lat: 27.1165, lng: 114.9852 },
    units: [{ type: 'patrol_car', count: 3, prefix: 'P' }],
  },
  {
    code: 'QY',
    agency: 'police',
    zh: '青原区公安分局',
    en: 'Qingyuan District Public Security Sub-bureau',
    position: { lat: 27.1032, lng: 115.0205 },
    units: [{ type: 'patrol_car', count: 3, prefix: 'P' }],
  },
  {
    code: 'LL',
    agency: 'police',
    zh: '吉安市公安局庐陵新区分局',
    en: 'Luling New Area Public Security Sub-bureau',
    position: { lat: 27.0868, lng: 114.9336 },
    units: [{ type: 'patrol_car', count: 2, prefix: 'P' }],
  },
  {
    code: 'KQ',
    agency: 'police',
    zh: '井冈山经开区公安分局',
    en: 'Jinggangshan Economic Zone Public Security Sub-bureau',
    position: { lat: 27.0612, lng: 114.9598 },
    units: [{ type: 'patrol_car', count: 2, prefix: 'P' }],
  },
  // Traffic police 交警
  {
    code: 'ZS',
    agency: 'traffic',
    zh: '吉安市公安局交通警察支队直属一大队',
    en: "Ji'an Traffic Police Detachment, 1st Brigade",
    position: { lat: 27.1207, lng: 114.9748 },
    units: [
      { type: 'traffic_patrol', count: 2, prefix: 'T' },
      { type: 'motorcycle', count: 2, prefix: 'TM' },
    ],
  },
  {
    code: 'JZ',
    agency: 'traffic',
    zh: '吉州区交警大队',
    en: 'Jizhou District Traffic Police Brigade',
    position: { lat: 27.1321, lng: 114.9893 },
    units: [
      { type: 'traffic_patrol', count: 2, prefix: 'T' },
      { type: 'motorcycle', count: 1, prefix: 'TM' },
    ],
  },
  {
    code: 'QY',
    agency: 'traffic',
    zh: '青原区交警大队',
    en: 'Qingyuan District Traffic Police Brigade',
    position: { lat: 27.0984, lng: 115.0301 },
    units: [
      { type: 'traffic_patrol', count: 1, prefix: 'T' },
      { type: 'motorcycle', count: 1, prefix: 'TM' },
    ],
  },
  // Fire and rescue 消防救援
  {
    code: 'TQ',
    agency: 'fire',
    zh: '吉安市消防救援支队特勤站',
    en: "Ji'an Fire and Rescue Detachment, Special Service Station",
    position: { lat: 27.0953, lng: 114.9652 },
    units: [
      { type: 'engine', count: 2, prefix: 'F' },
      { type: 'ladder', count: 1, prefix: 'FL' },
      { type: 'rescue', count: 1, prefix: 'FR' },
    ],
  },
  {
    code: 'JZ',
    agency: 'fire',
    zh: '吉州消防救援站',
    en: 'Jizhou Fire Station',
    position: { lat: 27.1254, lng: 114.9951 },
    units: [
      { type: 'engine', count: 1, prefix: 'F' },
      { type: 'ladder', count: 1, prefix: 'FL' },
    ],
  },
  {
    code: 'QY',
    agency: 'fire',
    zh: '青原消防救援站',
    en: 'Qingyuan Fire Station',
    position: { lat: 27.1096, lng: 115.0352 },
    units: [
      { type: 'engine', count: 1, prefix: 'F' },
      { type: 'rescue', count: 1, prefix: 'FR' },
    ],
  },
  {
    code: 'KQ',
    agency: 'fire',
    zh: '经开区消防救援站',
    en: 'Economic Zone Fire Station',
    position: { lat: 27.0655, lng: 114.9447 },
    units: [{ type: 'engine', count: 1, prefix: 'F' }],
  },
  // Emergency medical services 120
  {
    code: 'ZX',
    agency: 'ems',
    zh: '吉安市中心人民医院 120 急救站',
    en: "Ji'an Central People's Hospital 120 Station",
    position: { lat: 27.1183, lng: 114.9817 },
    units: [{ type: 'ambulance', count: 3, prefix: '120' }],
  },
  {
    code: 'JJ',
    agency: 'ems',
    zh: '吉安市急救中心',
    en: "Ji'an 120 Emergency Medical Centre",
    position: { lat: 27.1078, lng: 114.9603 },
    units: [{ type: 'ambulance', count: 2, prefix: '120' }],
  },
  {
    code: 'JZ',
    agency: 'ems',
    zh: '吉州区人民医院急救分站',
    en: "Jizhou District People's Hospital Ambulance Post",
    position: { lat: 27.1402, lng: 114.9706 },
    units: [{ type: 'ambulance', count: 1, prefix: '120' }],
  },
  {
    code: 'QY',
    agency: 'ems',
    zh: '青原区人民医院急救分站',
    en: "Qingyuan District People's Hospital Ambulance Post",
    position: { lat: 27.1007, lng: 115.0248 },
    units: [{ type: 'ambulance', count: 2, prefix: '120' }],
  },
  // Work-safety inspection 应急管理
  {
    code: 'JZ',
    agency: 'safety',
    zh: '吉州区应急管理局',
    en: 'Jizhou District Emergency Management Bureau',
    position: { lat: 27.1121, lng: 114.9903 },
    units: [{ type: 'inspection_team', count: 2, prefix: 'S' }],
  },
  {
    code: 'QY',
    agency: 'safety',
    zh: '青原区应急管理局',
    en: 'Qingyuan District Emergency Management Bureau',
    position: { lat: 27.1063, lng: 115.0154 },
    units: [{ type: 'inspection_team', count: 1, prefix: 'S' }],
  },
  {
    code: 'SJ',
    agency: 'safety',
    zh: '吉安市应急管理局执法支队',
    en: "Ji'an Emergency Management Law Enforcement Detachment",
    position: { lat: 27.0902, lng: 114.9501 },
    units: [{ type: 'inspection_team', count: 1, prefix: 'S' }],
  },
  // Urban management enforcement 城管执法
  {
    code: 'JZ',
    agency: 'urban',
    zh: '吉州区城管执法大队',
    en: 'Jizhou District Urban Management Enforcement Brigade',
    position: { lat: 27.1283, lng: 114.9804 },
    units: [{ type: 'enforcement_team', count: 3, prefix: 'U' }],
  },
  {
    code: 'QY',
    agency: 'urban',
    zh: '青原区城管执法大队',
    en: 'Qingyuan District Urban Management Enforcement Brigade',
    position: { lat: 27.0951, lng: 115.0402 },
    units: [{ type: 'enforcement_team', count: 2, prefix: 'U' }],
  },
  {
    code: 'LL',
    agency: 'urban',
    zh: '庐陵新区城管执法中队',
    en: 'Luling New Area Urban Management Enforcement Squadron',
    position: { lat: 27.0803, lng: 114.9252 },
    units: [{ type: 'enforcement_team', count: 1, prefix: 'U' }],
  },
];
