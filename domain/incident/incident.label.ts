/**
 * A short name a dispatcher can read out over the radio: "INC-" and the last 8 hex digits of the id.
 * Ids are UUID v7, whose tail is random, so the label is unique enough within a shift; the full id
 * stays in every payload for machines.
 */
export function incidentLabel(incidentId: string): string {
  const hex = incidentId.toLowerCase().replace(/[^0-9a-f]/g, '');
  return hex.length >= 8 ? `INC-${hex.slice(-8)}` : `INC-${incidentId}`;
}
