import type { FastifyBaseLogger } from 'fastify';
import type { Sql } from 'postgres';
import { Coalescer } from '../../eventstore/coalescer.ts';
import { READ_MODEL_WRITER } from '../../eventstore/postgres.ts';
import { answeredWithin, oneConnectionClient } from '../../projections/transactionConnection.ts';
import type { Alarm, AlarmOutcome } from './alarms.ts';
import { failureKind, Pauses, untilSettled, type Settled } from './retry.ts';

export interface AlarmInboxOptions {
  sql: Sql;
  /** Whose inbox: the MQTT session (client id) that took the alarms from the broker. Only its own rows are read. */
  consumer: string;
  /**
   * Stores alarms of one sensor, in order (`ingestAlarms`): each opens its incident or is attached to the sensor's
   * open one. Idempotent on the alarm id. Answers per alarm, with an error for an alarm refused on its own; throws
   * what fails them all.
   */
  ingest: (alarms: Alarm[]) => Promise<Array<AlarmOutcome | Error>>;
  log: FastifyBaseLogger;
  /** The first pause before an alarm is tried again (default 500 ms); each next pause doubles, up to 30 s. */
  retryFirstMs?: number;
  /** Sensors whose alarms are stored at the same time (default 16). One sensor's alarms are always stored in order. */
  concurrency?: number;
  /** How often the inbox is read when nothing was accepted here (default 1 s). */
  pollMs?: number;
  /** How long closing waits for the alarms being stored (default 5 s); what is unfinished is stored after the next start. */
  closeWaitMs?: number;
  /**
   * In a storm, how long a sensor's alarms wait for more of its alarms to be stored with (default 100 ms; 0: never).
   * Out of a storm an alarm is stored at once.
   */
  lingerMs?: number;
  /** An accept unanswered this long fails as the database being away (so it is tried again), and its connection is dropped (default 10 s). */
  acceptTimeoutMs?: number;
  /** What counts as a storm: this many alarms accepted within this many ms (default 20 within 100 ms). */
  storm?: { alarms: number; withinMs: number };
}

export interface AlarmInbox {
  /** Keeps the alarm in the inbox: once this resolves, the alarm survives a crash and may be acknowledged. */
  accept(topic: string, alarm: Alarm): Promise<void>;
  /** Resolves when every alarm accepted so far has been stored (or refused, or given up). For tests: the server never waits on it. */
  drained(): Promise<void>;
  close(): Promise<void>;
}

interface InboxRow {
  id: string;
  topic: string;
  alarm: Alarm;
}

/** Rows read from the inbox at a time, and how many may wait in memory before reading stops. */
const READ_BATCH = 500;
const HELD_MOST = 2_000;
/** A sensor's alarms stored together at most: their notes are one write. */
const BATCH_MOST = 100;

/**
 * The inbox between the broker and the log (a transactional inbox). The broker hands over alarms one at a time and
 * each is acknowledged in order, so an acknowledgement that waits for the whole ingest (an incident opened or a note
 * attached, about 4 ms) caps a storm at some 250 alarms a second, and the broker drops what its queue cannot hold.
 * Here an alarm is acknowledged once it is a row of `alarm_inbox` (one INSERT), and stored from there, the sensors'
 * alarms side by side and each sensor's in order, up to 100 at a time (one write for their notes). In a storm a
 * sensor's alarms wait up to `lingerMs` for more to store with, which keeps the storing from crowding out the taking
 * from the broker; a lone alarm is stored at once. A row is deleted once its alarm is stored or refused; one that
 * kept failing in an unforeseen way stays, marked given up, for an administrator. Rows left by a crash are stored
 * after the next start: ingestion is idempotent on the alarm id, so one stored but not yet deleted changes nothing
 * the second time.
 */
export function startAlarmInbox({ sql, consumer, ingest, log, retryFirstMs, concurrency = 16, pollMs = 1000, closeWaitMs = 5000, lingerMs = 100, storm = { alarms: 20, withinMs: 100 }, acceptTimeoutMs = 10_000 }: AlarmInboxOptions): AlarmInbox {
  const pauses = new Pauses();
  /** Each sensor's alarms waiting in memory, in inbox order; a lane exists while its sensor has alarms waiting. */
  const lanes = new Map<string, InboxRow[]>();
  /** Sensors waiting for a free slot, in the order their first alarm came. */
  const ready: string[] = [];
  let running = 0;
  let held = 0;
  /** Where the next read starts; a poll starts again from the first row, and skips the rows already held. */
  let lastRead = '0';
  const heldIds = new Set<string>();
  /** True while rows may wait in the table that are not held: at the start, and while more are waiting than memory holds. */
  let behind = true;
  let readAgain = true;
  let reading: Promise<void> | undefined;
  const idleWaiters: Array<() => void> = [];
  let accepted = 0;
  let settled = 0;

  /**
   * Where accepts are written. On a server, a connection of their own, so the taking from the broker never queues
   * behind the storing's statements in the pool (measured: 15-25 % more alarms taken a second). It never appends, so
   * it is labelled a read-model writer, which the log's horizon does not wait for. On the embedded PGlite, the one
   * shared connection.
   */
  let acceptConnection: Sql | undefined;
  const ownConnection = (sql.options?.max ?? 10) > 1;
  const acceptSql = (): Sql => (ownConnection ? (acceptConnection ??= oneConnectionClient(sql as never, READ_MODEL_WRITER) as unknown as Sql) : sql);
  const dropAcceptConnection = () => {
    const dropped = acceptConnection;
    acceptConnection = undefined;
    void dropped?.end({ timeout: 0 }).catch(() => {});
  };

  const deletes = new Coalescer<string, void>(
    async (ids) => {
      await sql`delete from alarm_inbox where id = any(${ids}::bigint[])`;
      return ids.map(() => undefined);
    },
    (id) => id,
  );

  const settle = async (row: InboxRow, result: Settled<AlarmOutcome>) => {
    if (result.settled === 'closed') return;
    try {
      if (result.settled === 'given-up') {
        const reason = result.error instanceof Error ? result.error.message : String(result.error);
        await sql`update alarm_inbox set given_up_at = now(), tries = ${result.tries}, last_error = ${reason} where id = ${row.id}`;
      } else {
        await deletes.run(row.id);
      }
    } catch (error) {
      // The alarm is stored (or refused); the next poll reads its row again, and storing it again changes nothing.
      log.warn({ err: error, alarmId: row.alarm.alarmId }, 'could not clear an inbox row; it is read again');
    }
  };

  /** When the alarms accepted lately began to come at a storm's pace, and how many have come since. */
  let windowStart = 0;
  let windowCount = 0;
  let stormUntil = 0;
  const noteAccepted = () => {
    const now = performance.now();
    if (now - windowStart > storm.withinMs) {
      windowStart = now;
      windowCount = 0;
    }
    if (++windowCount >= storm.alarms) stormUntil = now + storm.withinMs;
  };
  const storming = () => performance.now() < stormUntil;
  /** Resolves once the lane holds a full batch, or after `lingerMs`, or at once when closing. */
  const filled = async (lane: InboxRow[]) => {
    const until = performance.now() + lingerMs;
    while (lane.length < BATCH_MOST && !pauses.closing && performance.now() < until) await pauses.pause(Math.min(10, until - performance.now()));
  };

  const retry = { pauses, log, ...(retryFirstMs !== undefined && { retryFirstMs }), what: 'MQTT alarm' };

  /** The head of a lane alone, tried until settled: refused, stored, or given up after repeated faults. */
  const one = async (row: InboxRow): Promise<Settled<AlarmOutcome>> =>
    untilSettled(
      async () => {
        const [answer] = await ingest([row.alarm]);
        if (answer instanceof Error) throw answer;
        return answer!;
      },
      { ...retry, about: { topic: row.topic, alarmId: row.alarm.alarmId } },
    );

  /**
   * The lane's first alarms together. What may pass later is tried again as a batch; any other failure of the
   * batch as a whole ('split') leaves each to be tried alone, so one alarm that cannot be stored holds up only itself.
   */
  const together = async (rows: InboxRow[]): Promise<Settled<Array<AlarmOutcome | Error> | 'split'>> =>
    untilSettled(
      async () => {
        try {
          return await ingest(rows.map((r) => r.alarm));
        } catch (error) {
          if (failureKind(error) === 'again') throw error;
          return 'split' as const;
        }
      },
      { ...retry, about: { topic: rows[0]!.topic, alarms: rows.length } },
    );

  const done = (rows: InboxRow[]) => {
    for (const row of rows) heldIds.delete(row.id);
    held -= rows.length;
    settled += rows.length;
  };

  const runLane = async (sensorId: string) => {
    running++;
    try {
      const lane = lanes.get(sensorId)!;
      let alone = false;
      while (lane.length > 0 && !pauses.closing) {
        // In a storm each alarm stored on its own costs the whole path (statements, projector batches, live feed)
        // per alarm, and the storing then slows the taking from the broker. So while alarms pour in, a lane waits a
        // little for more of its sensor's alarms to store together; a lone alarm goes at once.
        if (lingerMs > 0 && lane.length < BATCH_MOST && storming()) await filled(lane);
        if (alone || lane.length === 1) {
          const row = lane[0]!;
          const result = await one(row);
          if (result.settled === 'closed') return;
          if (result.settled === 'done') log.debug({ topic: row.topic, ...result.value }, 'MQTT alarm ingested');
          await settle(row, result);
          lane.shift();
          done([row]);
          alone = false;
          continue;
        }
        const rows = lane.slice(0, BATCH_MOST);
        const result = await together(rows);
        if (result.settled === 'closed') return;
        if (result.settled !== 'done' || result.value === 'split') {
          alone = true;
          continue;
        }
        const answers = result.value;
        await Promise.all(
          rows.map((row, i) => {
            const answer = answers[i]!;
            if (!(answer instanceof Error)) {
              log.debug({ topic: row.topic, ...answer }, 'MQTT alarm ingested');
              return settle(row, { settled: 'done', value: answer });
            }
            // Only a refusal of the alarm itself is answered per alarm (an alarm id another sensor used).
            log.warn({ err: answer, topic: row.topic, alarmId: row.alarm.alarmId }, 'MQTT alarm refused');
            return settle(row, { settled: 'refused', error: answer });
          }),
        );
        lane.splice(0, rows.length);
        done(rows);
      }
      lanes.delete(sensorId);
    } finally {
      running--;
      if (!pauses.closing) {
        schedule();
        if (held < HELD_MOST / 2) void read();
        if (held === 0) wakeIdle();
      }
    }
  };

  const schedule = () => {
    while (running < concurrency && ready.length > 0) void runLane(ready.shift()!);
  };

  const wakeIdle = () => {
    if (settled < accepted || held > 0 || readAgain || reading) return;
    for (const wake of idleWaiters.splice(0)) wake();
  };

  const hold = (row: InboxRow) => {
    if (heldIds.has(row.id)) return;
    heldIds.add(row.id);
    held++;
    const lane = lanes.get(row.alarm.sensorId);
    if (lane) lane.push(row);
    else {
      lanes.set(row.alarm.sensorId, [row]);
      ready.push(row.alarm.sensorId);
    }
  };

  /** Reads what was accepted since the last read into the sensors' lanes. One read at a time; a wake-up during a read reads again after it. */
  const read = (): Promise<void> => {
    readAgain = true;
    if (reading || pauses.closing) return reading ?? Promise.resolve();
    reading = (async () => {
      while (readAgain && held < HELD_MOST && !pauses.closing) {
        readAgain = false;
        const rows = await sql<InboxRow[]>`
          select id::text as id, topic, alarm from alarm_inbox
          where consumer = ${consumer} and given_up_at is null and id > ${lastRead}::bigint
          order by alarm_inbox.id limit ${READ_BATCH}`;
        for (const row of rows) {
          lastRead = row.id;
          hold(row);
        }
        if (rows.length === READ_BATCH) readAgain = true;
        // Every row committed before this read began is held now, and no accept came back meanwhile: accepts may
        // hand their alarms over directly again.
        if (!readAgain && held < HELD_MOST) behind = false;
        schedule();
      }
    })()
      .catch(async (error: unknown) => {
        readAgain = true;
        log.warn({ err: error }, 'cannot read the alarm inbox; retrying');
        await pauses.pause(retryFirstMs ?? 500);
      })
      .finally(() => {
        reading = undefined;
        if (readAgain && held < HELD_MOST && !pauses.closing) void read();
        else wakeIdle();
      });
    return reading;
  };

  // Another session's rows are not read, but this session's rows left by an earlier run are: read at the start. A poll
  // reads again from the first row now and then, for a row whose delete failed or one committed out of order (two
  // processes wrongly sharing a session id).
  void read();
  const poll = setInterval(() => {
    lastRead = '0';
    void read();
  }, pollMs);
  poll.unref();

  return {
    async accept(topic, alarm) {
      const db = acceptSql();
      const [row] = await answeredWithin(
        db<Array<{ id: string }>>`
          insert into alarm_inbox (consumer, topic, alarm) values (${consumer}, ${topic}, ${db.json(alarm as never)}) returning id::text as id`,
        acceptTimeoutMs,
        () => {
          if (db === acceptConnection) dropAcceptConnection();
          return Object.assign(new Error(`the database did not answer within ${acceptTimeoutMs} ms`), { code: 'ETIMEDOUT' });
        },
      );
      accepted++;
      noteAccepted();
      // Straight to its sensor's lane, unless earlier rows wait to be read (a start, a backlog beyond memory): then
      // the reader takes it in its turn, so each sensor's alarms stay in order.
      if (behind || held >= HELD_MOST) {
        behind = true;
        void read();
      } else {
        hold({ id: row!.id, topic, alarm });
        schedule();
      }
    },
    drained: () =>
      new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        wakeIdle();
      }),
    async close() {
      clearInterval(poll);
      pauses.close();
      const deadline = Date.now() + closeWaitMs;
      while ((running > 0 || reading) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      for (const wake of idleWaiters.splice(0)) wake();
      dropAcceptConnection();
    },
  };
}

/** An alarm the inbox gave up on, as an administrator sees it. */
export interface GivenUpAlarm {
  id: string;
  consumer: string;
  topic: string;
  alarm: Alarm;
  receivedAt: string;
  givenUpAt: string;
  tries: number;
  lastError: string | null;
}

/** What waits in every session's inbox, and the alarms given up on (newest first, at most `limit`). */
export async function inboxState(sql: Sql, limit = 100): Promise<{ waiting: number; oldestWaitingAt: string | null; givenUpCount: number; givenUp: GivenUpAlarm[] }> {
  const [counts] = await sql<Array<{ waiting: string; oldest: Date | null; given_up: string }>>`
    select count(*) filter (where given_up_at is null)::text as waiting,
           min(received_at) filter (where given_up_at is null) as oldest,
           count(*) filter (where given_up_at is not null)::text as given_up
      from alarm_inbox`;
  const rows = await sql<Array<{ id: string; consumer: string; topic: string; alarm: Alarm; received_at: Date; given_up_at: Date; tries: number; last_error: string | null }>>`
    select id::text as id, consumer, topic, alarm, received_at, given_up_at, tries, last_error
      from alarm_inbox where given_up_at is not null order by given_up_at desc, alarm_inbox.id desc limit ${limit}`;
  return {
    waiting: Number(counts!.waiting),
    oldestWaitingAt: counts!.oldest?.toISOString() ?? null,
    givenUpCount: Number(counts!.given_up),
    givenUp: rows.map((r) => ({
      id: r.id,
      consumer: r.consumer,
      topic: r.topic,
      alarm: r.alarm,
      receivedAt: r.received_at.toISOString(),
      givenUpAt: r.given_up_at.toISOString(),
      tries: r.tries,
      lastError: r.last_error,
    })),
  };
}

/**
 * Puts an alarm given up on back in its session's inbox, once its cause is mended: that session's next poll (within
 * a second, on whichever server runs it) tries it again, five times. False when there is no such alarm given up on.
 */
export async function retryGivenUp(sql: Sql, id: string): Promise<boolean> {
  const rows = await sql`update alarm_inbox set given_up_at = null, tries = 0 where id = ${id}::bigint and given_up_at is not null returning id`;
  return rows.length > 0;
}
