// Colours are chosen to stay apart for the common colour-vision deficiencies: priority runs red → grey
// by lightness as well as hue, and agencies avoid the priority reds.
export const PRIORITY_COLORS: Record<number, string> = {
  1: '#e0262f',
  2: '#f2711c',
  3: '#f5c518',
  4: '#3b82f6',
  5: '#8c99a6',
};

export const AGENCY_COLORS: Record<string, string> = {
  police: '#1f4fd1',
  traffic: '#0ea5a4',
  fire: '#c2410c',
  ems: '#16a34a',
  safety: '#a16207',
  urban: '#7c3aed',
};

const FALLBACK = ['#0891b2', '#be185d', '#4d7c0f', '#9333ea', '#b45309'];

export function priorityColor(p: number): string {
  return PRIORITY_COLORS[p] ?? '#8c99a6';
}

export function agencyColor(agency: string): string {
  const known = AGENCY_COLORS[agency];
  if (known) return known;
  let h = 0;
  for (const ch of agency) h = (h * 31 + ch.charCodeAt(0)) | 0;
  return FALLBACK[Math.abs(h) % FALLBACK.length]!;
}
