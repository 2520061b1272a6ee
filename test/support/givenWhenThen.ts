import { expect } from 'vitest';
import { fold, type Decider } from '../../domain/decider.ts';
import { DomainError, type DomainErrorCode } from '../../domain/errors.ts';

/**
 * Given/when/then for deciders: given past events, when a command, then the new events or a refusal.
 *
 *   spec(incidentDecider).given([reported]).when(triage).then([triaged]);
 *   spec(incidentDecider).given([]).when(triage).thenThrows('not_found', /not been reported/);
 */
export function spec<State, Command, Event>(decider: Decider<State, Command, Event>) {
  return {
    given(history: readonly Event[]) {
      return {
        when(command: Command) {
          const run = () => decider.decide(command, fold(decider, history));
          return {
            /** Asserts the exact events and that each one is accepted by evolve (a fold that changes nothing is a lost fact). */
            then(expected: readonly Event[]): Event[] {
              const events = run();
              expect(events).toEqual(expected);
              let state = fold(decider, history);
              for (const event of events) {
                const next = decider.evolve(state, event);
                expect(next, `evolve ignored ${JSON.stringify(event)}`).not.toBe(state);
                state = next;
              }
              return events;
            },
            thenThrows(code: DomainErrorCode, message?: RegExp): DomainError {
              let outcome: { events: Event[] } | { error: unknown };
              try {
                outcome = { events: run() };
              } catch (error) {
                outcome = { error };
              }
              if ('events' in outcome) expect.fail(`expected a ${code} rejection, got events ${JSON.stringify(outcome.events)}`);
              const error = outcome.error;
              expect(error).toBeInstanceOf(DomainError);
              if (!(error instanceof DomainError)) throw error;
              expect(error.code, error.message).toBe(code);
              if (message) expect(error.message).toMatch(message);
              return error;
            },
          };
        },
      };
    },
  };
}
