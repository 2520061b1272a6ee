/**
 * An aggregate as a pure decider (in the style of Emmett): `decide` turns a command into new events or
 * throws a DomainError; `evolve` folds one event into the state. No I/O, no clock, no randomness.
 */
export interface Decider<State, Command, Event> {
  initialState: () => State;
  decide: (command: Command, state: State) => Event[];
  evolve: (state: State, event: Event) => State;
}

export function fold<State, Event>(decider: Pick<Decider<State, unknown, Event>, 'initialState' | 'evolve'>, events: Iterable<Event>): State {
  let state = decider.initialState();
  for (const event of events) state = decider.evolve(state, event);
  return state;
}
