// The domain's public surface: other layers import from here, never from a file inside domain/.
export * from './catalog.ts';
export * from './decider.ts';
export * from './errors.ts';
export * from './events.ts';
export * from './metadata.ts';
export * from './upcast.ts';

export * from './incident/incident.allowed.ts';
export * from './incident/incident.commands.ts';
export * from './incident/incident.decider.ts';
export * from './incident/incident.events.ts';
export * from './incident/incident.label.ts';
export * from './incident/incident.machine.ts';
export * from './incident/incident.view.ts';
export * from './incident/coordination.ts';
export * from './incident/coordination.decide.ts';
export * from './plans/runCards.ts';
export * from './decision/geo.ts';
export * from './decision/time.ts';
export * from './decision/recommend.ts';
export * from './decision/duplicates.ts';
export * from './decision/statusTimers.ts';
export * from './decision/enforcementQueue.ts';

export * from './unit/unit.allowed.ts';
export * from './unit/unit.commands.ts';
export * from './unit/unit.decider.ts';
export * from './unit/unit.events.ts';
export * from './unit/unit.machine.ts';
export * from './unit/unit.view.ts';

// Sentence and set helpers the API reuses so its messages read like the domain's.
export { isAgency, isIncidentType, isPriority, listWords, unionAgencies } from './validation.ts';
