import type { Incident, Unit } from '../api/types.ts';
import { agencyColor, priorityColor } from '../util/colors.ts';
import type { MarkerStyle, Shape } from './markerStyle.ts';

export const INCIDENT_SHAPES: Record<string, Shape> = {
  reported: 'circle',
  triaged: 'diamond',
  dispatched: 'triangle',
  on_scene: 'square',
  resolved: 'ring',
  closed: 'ring',
  cancelled: 'ring',
};

const INCIDENT_SIZE: Record<number, number> = { 1: 9, 2: 8, 3: 7, 4: 6, 5: 6 };

/** Red for an incident a status timer has flagged overdue (issue 6): it needs someone's attention now. */
export const OVERDUE_COLOR = '#dc2626';

export function incidentStyle(i: Pick<Incident, 'priority' | 'status'> & Partial<Pick<Incident, 'overdue'>>): MarkerStyle {
  const shape = INCIDENT_SHAPES[i.status] ?? 'circle';
  const overdue = (i.overdue?.length ?? 0) > 0;
  const color = overdue ? OVERDUE_COLOR : priorityColor(i.priority);
  const ended = i.status === 'resolved' || i.status === 'closed' || i.status === 'cancelled';
  return {
    shape,
    fill: color,
    stroke: ended ? color : overdue ? OVERDUE_COLOR : '#111827',
    size: INCIDENT_SIZE[i.priority] ?? 6,
    lineWidth: ended ? 2.5 : 1.5,
    // Urgent incidents are drawn last so a P1 is never buried under a cluster of P5 cases.
    z: 100 + (6 - i.priority),
    alpha: ended ? 0.65 : 1,
  };
}

export type UnitLook = 'available' | 'busy' | 'out';

export function unitLook(u: Pick<Unit, 'readiness' | 'status'>): UnitLook {
  if (u.readiness === 'out_of_service') return 'out';
  return u.status === 'idle' ? 'available' : 'busy';
}

export function unitStyle(u: Pick<Unit, 'agency' | 'readiness' | 'status'>): MarkerStyle {
  const look = unitLook(u);
  const color = agencyColor(u.agency);
  if (look === 'out') return { shape: 'roundrect', fill: '#9ca3af', stroke: '#6b7280', size: 5, lineWidth: 1, z: 10, alpha: 0.7 };
  if (look === 'busy') return { shape: 'roundrect', fill: color, stroke: '#111827', size: 6.5, lineWidth: 2, z: 30, dot: '#ffffff' };
  return { shape: 'roundrect', fill: color, stroke: '#ffffff', size: 6, lineWidth: 2, z: 20 };
}
