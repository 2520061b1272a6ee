import type { NewSensor } from './sensors.ts';

/** Sensors of the demo city (Ji'an): plausible places, not an official register. */
export const DEMO_SENSORS: readonly NewSensor[] = [
  { id: 'JA-SMK-0001', kind: 'smoke_alarm', location: { lat: 27.1172, lng: 114.9801 }, address: '吉州区 人民广场 百货大楼 5F' },
  { id: 'JA-SMK-0002', kind: 'smoke_alarm', location: { lat: 27.1021, lng: 115.0182 }, address: '青原区 河东街道 居民楼 12栋' },
  { id: 'JA-FIRE-0001', kind: 'fire_alarm', location: { lat: 27.0896, lng: 114.9627 }, address: '庐陵新区 吉安市中心医院 住院部' },
  { id: 'JA-GAS-0001', kind: 'gas_detector', location: { lat: 27.1234, lng: 114.9915 }, address: '吉州区 北门街道 燃气调压站' },
  { id: 'JA-GAS-0002', kind: 'gas_detector', location: { lat: 27.0612, lng: 114.9264 }, address: '井冈山经开区 化工园 3号罐区' },
  { id: 'JA-WL-0001', kind: 'water_level', location: { lat: 27.1108, lng: 115.0009 }, address: '赣江 吉安大桥 水位站' },
  { id: 'JA-WL-0002', kind: 'water_level', location: { lat: 27.0978, lng: 114.9823 }, address: '吉州区 阳明路 下穿隧道' },
  { id: 'JA-CAM-0001', kind: 'traffic_camera', location: { lat: 27.1139, lng: 114.9866 }, address: '吉州区 井冈山大道与阳明路交叉口' },
  { id: 'JA-CAM-0002', kind: 'traffic_camera', location: { lat: 27.0853, lng: 114.9712 }, address: '庐陵新区 庐陵大道与吉州大道交叉口' },
  { id: 'JA-CON-0001', kind: 'construction_monitor', location: { lat: 27.0765, lng: 114.9558 }, address: '庐陵新区 在建地铁站 塔吊监测' },
];
