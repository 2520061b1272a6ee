import type { IncidentSource, IncidentType, Location, Priority } from '../../domain/index.ts';

/** A step a demo incident has gone through, by whom (a demo username), so the map opens mid-shift. */
export type DemoStep =
  | { do: 'triage'; by: string }
  | { do: 'assign'; callSign: string; by: string }
  | { do: 'status'; callSign: string; status: 'en_route' | 'on_scene'; by: string };

export interface DemoIncident {
  /** Stable key: the incident id and every command id are derived from it. */
  key: string;
  type: IncidentType;
  priority: Priority;
  location: Location;
  address: string;
  description: string;
  source: IncidentSource;
  reportedBy: string;
  steps: DemoStep[];
}

export const DEMO_INCIDENTS: readonly DemoIncident[] = [
  {
    key: 'wenshan-kitchen-fire',
    type: 'fire',
    priority: 1,
    location: { lat: 27.1189, lng: 114.9893 },
    address: '吉州区文山路 18 号居民楼 3 楼 (Wenshan Rd 18, Jizhou, 3rd floor)',
    description: '厨房起火，楼道有烟，一名老人被困 · Kitchen fire, smoke in the stairwell, one elderly resident trapped',
    source: 'phone',
    reportedBy: 'dispatcher.fire',
    steps: [
      { do: 'triage', by: 'dispatcher.fire' },
      { do: 'assign', callSign: 'F-JZ-01', by: 'dispatcher.fire' },
      { do: 'assign', callSign: '120-ZX-01', by: 'dispatcher.ems' },
      { do: 'status', callSign: 'F-JZ-01', status: 'en_route', by: 'supervisor.fire' },
      { do: 'status', callSign: 'F-JZ-01', status: 'on_scene', by: 'supervisor.fire' },
      { do: 'status', callSign: '120-ZX-01', status: 'en_route', by: 'supervisor.ems' },
    ],
  },
  {
    key: 'jinggangshan-avenue-collision',
    type: 'traffic_accident_injuries',
    priority: 2,
    location: { lat: 27.1046, lng: 114.9712 },
    address: '井冈山大道与阳明西路交叉口 (Jinggangshan Ave × Yangming Rd W)',
    description: '两车相撞，一名电动车骑手受伤 · Two-vehicle collision, one e-bike rider injured',
    source: 'phone',
    reportedBy: 'dispatcher.traffic',
    steps: [],
  },
  {
    key: 'hedong-collapse',
    type: 'medical',
    priority: 2,
    location: { lat: 27.1072, lng: 115.0118 },
    address: '青原区河东街道滨江小区 5 栋 (Binjiang estate block 5, Hedong, Qingyuan)',
    description: '七旬男子晕倒，意识不清 · Man in his seventies collapsed, drowsy',
    source: 'phone',
    reportedBy: 'dispatcher.ems',
    steps: [
      { do: 'triage', by: 'dispatcher.ems' },
      { do: 'assign', callSign: '120-QY-01', by: 'dispatcher.ems' },
      { do: 'status', callSign: '120-QY-01', status: 'en_route', by: 'supervisor.ems' },
    ],
  },
  {
    key: 'luling-illegal-extension',
    type: 'illegal_construction',
    priority: 4,
    location: { lat: 27.0841, lng: 114.9288 },
    address: '庐陵新区后河路某小区 12 栋楼顶 (roof of block 12, Houhe Rd, Luling)',
    description: '楼顶违规搭建彩钢棚 · Unauthorised steel shed being built on a rooftop',
    source: 'hotline_12345',
    reportedBy: 'dispatcher.urban',
    steps: [],
  },
  {
    key: 'qingyuan-restaurant-gas',
    type: 'gas_leak',
    priority: 2,
    location: { lat: 27.0968, lng: 115.0266 },
    address: '青原区青原大道 66 号餐馆后厨 (restaurant kitchen, Qingyuan Ave 66)',
    description: '可燃气体探测器报警，店员闻到燃气味 · Gas detector alarm, staff smell gas',
    source: 'sensor',
    reportedBy: 'dispatcher.safety',
    steps: [
      { do: 'triage', by: 'dispatcher.safety' },
      { do: 'assign', callSign: 'S-QY-01', by: 'dispatcher.safety' },
      { do: 'assign', callSign: 'F-QY-01', by: 'dispatcher.fire' },
    ],
  },
];
