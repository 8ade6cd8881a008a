// Reading and writing the local replica. Every local edit writes the row and its changes to the outbox in
// one IndexedDB transaction (docs/sync-protocol.md 3.1, step 1), stamped by the hybrid logical clock whose
// state lives in the same database, so every tab stamps from one clock.
import { canonicalJson } from "../sync/canonical";
import type { Change } from "../sync/changes";
import { rowChecksum } from "../sync/checksum";
import { formatStamp, HybridClock, parseStamp } from "../sync/clock";
import { fieldOf, isLive, mergeIntoRow, setOwn, type RowRecord } from "../sync/merge";
import { db, getMeta, setMeta } from "./db";

export type Row = { id: string } & Record<string, unknown>;

export function toObject(record: RowRecord): Row {
  const row: Row = { id: record.id };
  for (const [column, version] of Object.entries(record.f)) {
    if (column !== "_cl") row[column] = version.v;
  }
  return row;
}

export async function liveRows(table: string): Promise<Row[]> {
  const records = await db.rows.where("t").equals(table).toArray();
  return records.filter(isLive).map(toObject);
}

export async function getRow(table: string, id: string): Promise<Row | undefined> {
  const record = await db.rows.get([table, id]);
  return record && isLive(record) ? toObject(record) : undefined;
}

interface ClockState {
  wall: number;
  counter: number;
}

/** Milliseconds to add to this phone's clock, learnt from the server when it refused a stamp as skewed. */
export async function clockOffset(): Promise<number> {
  return (await getMeta<number>("clockOffsetMs")) ?? 0;
}

async function loadClock(node: string): Promise<HybridClock> {
  const offset = await clockOffset();
  const state = await getMeta<ClockState>("clock");
  return new HybridClock(node, null, () => Date.now() + offset, state ?? { wall: 0, counter: 0 });
}

async function nodeId(): Promise<string> {
  const session = await getMeta<{ clientId: string }>("session");
  if (!session) throw new Error("not logged in");
  return session.clientId;
}

export interface EditOptions {
  /** A new row: `_cl: 1` goes first, with the fields the server needs in the same push. */
  create?: boolean;
  /** Delete the row (the next even causal length). */
  remove?: boolean;
}

type EditListener = () => void;
const listeners = new Set<EditListener>();

/** The sync client listens, to push soon after an edit. */
export function onEdit(listener: EditListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Edit one row: each field whose value changes becomes one change, stamped now, merged into the local row and
 * appended to the outbox, all in one transaction. Returns the number of changes written.
 */
export async function edit(
  table: string,
  id: string,
  fields: Record<string, unknown>,
  options: EditOptions = {},
): Promise<number> {
  const written = await db.transaction("rw", db.rows, db.outbox, db.meta, async () => {
    const node = await nodeId();
    const clock = await loadClock(node);
    let record = await db.rows.get([table, id]);
    const changes: Change[] = [];
    const stamp = (column: string, value: unknown): void => {
      const { stamp: hlc } = clock.now();
      changes.push({ table, row: id, column, value, hlc, node });
    };
    const cl = record?.cl ?? 0;
    if (options.create && cl % 2 === 0) stamp("_cl", cl + 1);
    for (const [column, value] of Object.entries(fields)) {
      const current = fieldOf(record, column);
      // A new row carries all its fields; an existing one only those that change.
      if (current && canonicalJson(current.v) === canonicalJson(value) && !(options.create && cl % 2 === 0)) continue;
      stamp(column, value);
    }
    if (options.remove && cl % 2 === 1) stamp("_cl", cl + 1);
    for (const change of changes) {
      record = mergeIntoRow(record, change) ?? record;
    }
    if (changes.length === 0) return 0;
    if (record) await db.rows.put(record);
    const group = `${changes[0]!.hlc}/${id}`;
    await db.outbox.bulkAdd(changes.map((change) => ({ change, edit: group })));
    await setMeta("clock", clock.state());
    return changes.length;
  });
  if (written > 0) for (const listener of listeners) listener();
  return written;
}

/**
 * Merge pulled changes and drop rows that left the caller's scope, in one transaction. Every pulled stamp
 * moves the clock forward (2.2), so later local edits order after everything seen here.
 */
export async function applyPulled(
  changes: Change[],
  removed: { table: string; row: string }[],
  /** During a full download (`startOver`): every row it delivers is marked, and `sweep` drops the others. */
  generation: number | null = null,
): Promise<number> {
  if (changes.length === 0 && removed.length === 0) return 0;
  return db.transaction("rw", db.rows, db.meta, async () => {
    const node = await nodeId();
    const clock = await loadClock(node);
    const keys = new Map<string, [string, string]>();
    for (const change of changes) keys.set(`${change.table}\u001f${change.row}`, [change.table, change.row]);
    const keyList = [...keys.values()];
    const existing = await db.rows.bulkGet(keyList);
    const records = new Map<string, RowRecord | undefined>();
    keyList.forEach((key, i) => records.set(`${key[0]}\u001f${key[1]}`, existing[i]));
    const dirty = new Set<string>();
    let latest: string | null = null;
    for (const change of changes) {
      if (latest === null || change.hlc > latest) latest = change.hlc;
      try {
        clock.receive({ stamp: change.hlc, node: change.node });
      } catch {
        // A counter overflow only delays the clock; the change itself still merges.
      }
      const key = `${change.table}\u001f${change.row}`;
      const merged = mergeIntoRow(records.get(key), change);
      if (merged) {
        records.set(key, merged);
        dirty.add(key);
      }
      const record = records.get(key);
      if (generation !== null && record && record.dl !== generation) {
        records.set(key, { ...record, dl: generation });
        dirty.add(key);
      }
    }
    const puts: RowRecord[] = [];
    for (const key of dirty) {
      const record = records.get(key);
      if (record) puts.push(record);
    }
    if (puts.length > 0) await db.rows.bulkPut(puts);
    if (removed.length > 0) await db.rows.bulkDelete(removed.map((r) => [r.table, r.row] as [string, string]));
    await setMeta("clock", clock.state());
    if (latest !== null) await confirmStamp(latest); // for rewindClock (part of its fix)
    return dirty.size;
  });
}

/** The replica's checksum (docs/sync-protocol.md 6): fingerprints of every field version of live rows. */
export async function replicaChecksum(): Promise<number> {
  // One read of the whole store: `each` costs a round trip per row (bench/pwa_first_sync.py: 2x slower).
  let sum = 0;
  for (const record of await db.rows.toArray()) sum = (sum + rowChecksum(record)) >>> 0;
  return sum;
}

/**
 * The server refused a change as stamped too far ahead: stamp the same value again with the corrected clock.
 * The local row keeps the value; its version becomes the new stamp so the resent change is not older locally.
 */
export async function restamp(change: Change): Promise<void> {
  await db.transaction("rw", db.rows, db.outbox, db.meta, async () => {
    const clock = await loadClock(change.node);
    const { stamp: hlc } = clock.now();
    const again: Change = { ...change, hlc };
    const record = await db.rows.get([change.table, change.row]);
    const current = fieldOf(record, change.column);
    if (record && current && current.h === change.hlc && current.n === change.node) {
      setOwn(record.f, change.column, { v: change.value, h: hlc, n: change.node });
      await db.rows.put(record);
    }
    await db.outbox.add({ change: again });
    await setMeta("clock", clock.state());
  });
}

/**
 * Remember the latest stamp the server has vouched for: pulled, or accepted from this phone. Stamps at or
 * before it are not too far ahead, so the clock never needs to go back past it (see `rewindClock`).
 */
export async function confirmStamp(stamp: string): Promise<void> {
  const confirmed = await getMeta<string>("confirmedStamp");
  if (confirmed === undefined || stamp > confirmed) await setMeta("confirmedStamp", stamp);
}

/**
 * After a `sync.clock_skew` refusal, before `restamp`: set the clock back from the future.
 *
 * Fix: the clock's persisted wall is the last stamp it gave, which came from the phone's wrong time; `now()`
 * takes the larger of that wall and the (corrected) physical time, so the restamped change carried a stamp just
 * as far ahead, was refused again, and the sync went round until it gave up: the edit never reached the server.
 * The clock goes back to the latest confirmed stamp (`confirmStamp`), so the new stamp still orders after
 * everything this phone has seen and had accepted (2.2); only stamps the server refused are forgotten.
 */
export async function rewindClock(): Promise<void> {
  const confirmed = (await getMeta<string>("confirmedStamp")) ?? formatStamp(0, 0);
  const current = await getMeta<ClockState>("clock");
  if (current && formatStamp(current.wall, current.counter) <= confirmed) return; // only ever moves back
  await setMeta("clock", parseStamp(confirmed));
}

/**
 * The end of a full download: drop the rows it did not deliver (they left the caller's scope, or were never
 * accepted), except rows with changes still in the outbox. Until this point the old rows stay on screen, so a
 * download cut off half-way never leaves the phone empty.
 */
export async function sweep(generation: number): Promise<number> {
  return db.transaction("rw", db.rows, db.outbox, async () => {
    const pending = new Set<string>();
    await db.outbox.each(({ change }) => pending.add(`${change.table}\u001f${change.row}`));
    const stale = (await db.rows.toArray())
      .filter((r) => r.dl !== generation && !pending.has(`${r.t}\u001f${r.id}`))
      .map((r) => [r.t, r.id] as [string, string]);
    await db.rows.bulkDelete(stale);
    return stale.length;
  });
}

/**
 * A change the server refused: take its version out of the local row, so the server's version of the field
 * (delivered by the download that follows) wins again. Call inside a transaction over `rows`.
 */
export async function forgetRejected(change: Change): Promise<void> {
  const record = await db.rows.get([change.table, change.row]);
  const current = fieldOf(record, change.column);
  if (!record || !current || current.h !== change.hlc || current.n !== change.node) return;
  const fields = { ...record.f };
  delete fields[change.column];
  const cl = change.column === "_cl" ? null : record.cl;
  await db.rows.put({ ...record, f: fields, cl });
}
