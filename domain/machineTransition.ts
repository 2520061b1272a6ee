import { createActor, type AnyActorScope, type AnyStateMachine, type EventFromLogic, type SnapshotFrom } from 'xstate';

// XState's pure `transition()` builds a whole actor, and with it the machine's initial snapshot, on every call, only
// to hand the machine an inert scope: that was most of the cost of folding an event. Our machines invoke and spawn
// nothing and run no side effects (domain rule), so the scope holds nothing between calls and one per machine does.
const scopes = new WeakMap<AnyStateMachine, AnyActorScope>();

function inertScope(machine: AnyStateMachine): AnyActorScope {
  let scope = scopes.get(machine);
  if (!scope) {
    const self = createActor(machine);
    scope = {
      self,
      id: '',
      sessionId: '',
      system: self.system,
      logger: () => {},
      defer: () => {},
      emit: () => {},
      stopChild: () => {},
      // Actions are facts for whoever interprets the machine; a decider only wants the next snapshot.
      actionExecutor: () => {},
    } as unknown as AnyActorScope;
    scopes.set(machine, scope);
  }
  return scope;
}

/**
 * The last step taken with each event object. A command's events are folded once by decide (to check the machine
 * takes them) and again by whoever applies them to the same state; snapshots and events are never changed in
 * place, so the second fold is the first one's answer.
 */
const lastStep = new WeakMap<object, { from: unknown; to: unknown }>();

/** The snapshot after `event`: what `transition(machine, snapshot, event)[0]` gives, without building an actor. */
export function nextSnapshot<M extends AnyStateMachine>(machine: M, snapshot: SnapshotFrom<M>, event: EventFromLogic<M>): SnapshotFrom<M> {
  const step = lastStep.get(event);
  if (step && step.from === snapshot) return step.to as SnapshotFrom<M>;
  const to = machine.transition(snapshot, event, inertScope(machine)) as SnapshotFrom<M>;
  lastStep.set(event, { from: snapshot, to });
  return to;
}
