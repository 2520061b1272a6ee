import { describe, expect, it } from 'vitest';
import { eventIdFor, newId } from '../../eventstore/eventIds.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-([0-9a-f])[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('event ids', () => {
  it('are the same for the same command, stream and index, so a retry writes nothing new', () => {
    expect(eventIdFor('cmd-1', 'incident-1', 0)).toBe(eventIdFor('cmd-1', 'incident-1', 0));
    expect(UUID.exec(eventIdFor('cmd-1', 'incident-1', 0))?.[1]).toBe('5');
  });

  it('differ when any part differs, including parts that would run together when concatenated', () => {
    const ids = [
      eventIdFor('cmd-1', 'incident-1', 0),
      eventIdFor('cmd-1', 'incident-1', 1),
      eventIdFor('cmd-1', 'incident-2', 0),
      eventIdFor('cmd-2', 'incident-1', 0),
      eventIdFor('a/b', 'c', 0),
      eventIdFor('a', 'b/c', 0),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('rejects an index that is not a non-negative integer', () => {
    expect(() => eventIdFor('cmd', 's', -1)).toThrow(RangeError);
    expect(() => eventIdFor('cmd', 's', 1.5)).toThrow(RangeError);
  });

  it('newId gives time-ordered UUID v7s', () => {
    const a = newId();
    const b = newId();
    expect(UUID.exec(a)?.[1]).toBe('7');
    expect(a).not.toBe(b);
    expect(a.slice(0, 13) <= b.slice(0, 13)).toBe(true);
  });
});
