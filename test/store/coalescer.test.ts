import { describe, expect, it } from 'vitest';
import { Coalescer } from '../../eventstore/coalescer.ts';

describe('Coalescer', () => {
  it('sends the first item at once, and what arrives meanwhile together in the next batch, answering each in order', async () => {
    const batches: number[][] = [];
    let release: () => void = () => {};
    const c = new Coalescer<number, number>(async (items) => {
      batches.push(items);
      if (batches.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return items.map((i) => i * 10);
    }, String);
    const first = c.run(1);
    const later = [c.run(2), c.run(3), c.run(4)];
    release();
    expect(await Promise.all([first, ...later])).toEqual([10, 20, 30, 40]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('never puts two items with the same key in one batch', async () => {
    const batches: string[][] = [];
    const c = new Coalescer<string, string>(async (items) => {
      batches.push(items);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return items;
    }, (s) => s.split(':')[0]!);
    await Promise.all([c.run('a:1'), c.run('a:2'), c.run('b:1'), c.run('a:3')]);
    for (const batch of batches) expect(new Set(batch.map((s) => s.split(':')[0])).size).toBe(batch.length);
    expect(batches.flat().sort()).toEqual(['a:1', 'a:2', 'a:3', 'b:1']);
  });

  it('a failed statement fails every item of its batch, and the next batch still goes', async () => {
    let calls = 0;
    const c = new Coalescer<number, number>(async (items) => {
      calls += 1;
      if (calls === 2) throw new Error('database unreachable');
      await new Promise((resolve) => setTimeout(resolve, 5));
      return items;
    }, String);
    const first = c.run(1);
    const failing = [c.run(2), c.run(3)];
    expect(await first).toBe(1);
    for (const f of failing) await expect(f).rejects.toThrow('database unreachable');
    expect(await c.run(4)).toBe(4);
  });
});

describe('Coalescer with a statement that never answers', () => {
  it('fails that batch as unreachable after the timeout, and the next batch goes', async () => {
    let calls = 0;
    const c = new Coalescer<number, number>(
      (items) => {
        calls += 1;
        return calls === 1 ? new Promise<number[]>(() => {}) : Promise.resolve(items);
      },
      String,
      256,
      50,
    );
    await expect(c.run(1)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    expect(await c.run(2)).toBe(2);
  });
});
