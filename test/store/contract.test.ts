import { describe, it } from 'vitest';
import { reachableStores } from '../support/db.ts';
import { openStoreUnderTest } from './adapters.ts';
import { eventStoreContract } from './contract.ts';

for (const target of reachableStores()) {
  if (target.reachable) {
    eventStoreContract(target.kind, () => openStoreUnderTest(target.kind));
  } else {
    // A skipped adapter must be impossible to miss: a green run here says nothing about it.
    console.warn(`[event store contract] ${target.title} contract suite — skipped: ${target.reason}`);
    describe.skip(`${target.title} contract suite — skipped: ${target.reason}`, () => {
      it(`runs when ${target.reason?.replace(' not set', '')} is set`, () => {});
    });
  }
}
