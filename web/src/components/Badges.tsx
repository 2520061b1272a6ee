import type { Incident } from '../api/types.ts';
import { useNames } from '../config/ConfigContext.tsx';
import { useI18n } from '../i18n/i18n.tsx';
import { INCIDENT_SHAPES } from '../map/symbology.ts';
import { agencyColor, priorityColor } from '../util/colors.ts';

export function PriorityBadge({ priority, long = false }: { priority: number; long?: boolean }) {
  const { t, tx } = useI18n();
  return (
    <span className={`badge badge--p${priority}`} style={{ background: priorityColor(priority) }} data-testid="priority-badge" data-priority={priority}>
      {t('priority.short', { p: priority })}
      {long ? ` ${tx(`priority.${priority}`)}` : ''}
    </span>
  );
}

export function StatusBadge({ status }: { status: Incident['status'] | string }) {
  const { tx } = useI18n();
  return (
    <span className={`status status--${status}`} data-testid="status-badge" data-status={status}>
      <ShapeIcon shape={INCIDENT_SHAPES[status] ?? 'circle'} />
      {tx(`status.${status}`, status)}
    </span>
  );
}

export function UnitStatusBadge({ status, readiness }: { status: string; readiness?: string }) {
  const { tx } = useI18n();
  const s = readiness === 'out_of_service' ? 'out_of_service' : status;
  return (
    <span className={`ustatus ustatus--${s}`} data-testid="unit-status" data-status={s}>
      {tx(`unitStatus.${s}`, s)}
    </span>
  );
}

export function AgencyChip({ agency }: { agency: string }) {
  const names = useNames();
  return (
    <span className="agency-chip" data-agency={agency}>
      <span className="agency-chip__swatch" style={{ background: agencyColor(agency) }} />
      {names.agency(agency)}
    </span>
  );
}

export function ShapeIcon({ shape, color = 'currentColor', size = 12 }: { shape: string; color?: string; size?: number }) {
  const c = size / 2;
  const r = size / 2 - 1.5;
  let el;
  switch (shape) {
    case 'diamond':
      el = <polygon points={`${c},${c - r} ${c + r},${c} ${c},${c + r} ${c - r},${c}`} fill={color} />;
      break;
    case 'triangle':
      el = <polygon points={`${c},${c - r} ${c + r},${c + r * 0.8} ${c - r},${c + r * 0.8}`} fill={color} />;
      break;
    case 'square':
      el = <rect x={c - r * 0.85} y={c - r * 0.85} width={r * 1.7} height={r * 1.7} fill={color} />;
      break;
    case 'ring':
      el = <circle cx={c} cy={c} r={r - 1} fill="none" stroke={color} strokeWidth={2} />;
      break;
    case 'roundrect':
      el = <rect x={1.5} y={c - r * 0.7} width={size - 3} height={r * 1.4} rx={2.5} fill={color} />;
      break;
    default:
      el = <circle cx={c} cy={c} r={r} fill={color} />;
  }
  return (
    <svg className="shape-icon" width={size} height={size} viewBox={`0 0 ${size} ${size}`} aria-hidden>
      {el}
    </svg>
  );
}
