import { describe, expect, it } from 'vitest';
import { v5 as uuidv5 } from 'uuid';
import { eventIdFor, nameBasedId, newId } from '../../eventstore/eventIds.ts';

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

describe('name-based ids', () => {
  it('equal the uuid package v5 for the same name and namespace (ids already stored must not change)', () => {
    const namespaces = ['5b1f6c1e-6a43-4b53-9a0e-2f6d3c1b7e90', '6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF'];
    const names = ['', 'a', 'cmd-1', '["cmd-1","incident-1",0]', '吉安市 吉州区 阳明路', 'emoji 🚒 and \u0000 nul', 'x'.repeat(10_000)];
    for (let i = 0; i < 200; i++) names.push(JSON.stringify([Math.random().toString(36), i, String.fromCodePoint(0x4e00 + i)]));
    for (const namespace of namespaces) {
      for (const name of names) expect(nameBasedId(name, namespace)).toBe(uuidv5(name, namespace));
    }
  });

  it('rejects a namespace that is not a UUID', () => {
    expect(() => nameBasedId('a', 'not-a-uuid')).toThrow(TypeError);
  });
});
