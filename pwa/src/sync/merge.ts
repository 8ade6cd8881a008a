// Merging changes into a replica: per-field last-writer-wins, rows alive by causal length
// (docs/sync-protocol.md 2). The TypeScript port of sync/merge.py, plus the row-record helpers the app's
// IndexedDB layer reuses, so the browser and the in-memory replica merge with the very same code.
import { compareUtf8 } from "./canonical";
import { CAUSAL_LENGTH, type Change, isAlive, wins } from "./changes";

/** One field's winning version: value, stamp, node. */
export type FieldVersion = { v: unknown; h: string; n: string };

/**
 * One row as the replica stores it: every field it holds (`_cl` included) with its winning version.
 * `cl` mirrors the winning `_cl` value (null when the row has no `_cl` yet, or its `_cl` is not an integer).
 */
export type RowRecord = {
  t: string;
  id: string;
  cl: number | null;
  f: Record<string, FieldVersion>;
  /** The phone's bookkeeping, not replicated: the full download that last delivered the row. */
  dl?: number;
};

/** The field's winning version in `row`, if it holds one. Own properties only: a column may be named
 * `constructor`, which a plain lookup would find on Object.prototype. */
export function fieldOf(row: RowRecord | undefined, column: string): FieldVersion | undefined {
  return row !== undefined && Object.hasOwn(row.f, column) ? row.f[column] : undefined;
}

/** The change a stored field version stands for. */
export function changeOf(row: RowRecord, column: string): Change | undefined {
  const version = fieldOf(row, column);
  return version && { table: row.t, row: row.id, column, value: version.v, hlc: version.h, node: version.n };
}

/** Set an own enumerable property, even one named `__proto__`, which assignment would not create. */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function causalLength(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) ? value : null;
}

/**
 * Merge one change into a row. Returns the new record (a copy; `row` is not modified), or null when the change
 * loses or is already there, so nothing changes. Throws when the change names another row.
 */
export function mergeIntoRow(row: RowRecord | undefined, change: Change): RowRecord | null {
  if (row !== undefined && (row.t !== change.table || row.id !== change.row)) {
    throw new Error(`change of ${change.table}/${change.row} merged into row ${row.t}/${row.id}`);
  }
  const current = row && changeOf(row, change.column);
  if (current !== undefined && !wins(change, current)) return null;
  const fields: Record<string, FieldVersion> = { ...row?.f };
  setOwn(fields, change.column, { v: change.value, h: change.hlc, n: change.node });
  const cl = change.column === CAUSAL_LENGTH ? causalLength(change.value) : (row?.cl ?? null);
  const merged: RowRecord = { t: change.table, id: change.row, cl, f: fields };
  if (row?.dl !== undefined) merged.dl = row.dl;
  return merged;
}

/** The row exists: its causal length is odd (and a valid causal length). */
export function isLive(row: RowRecord): boolean {
  return isAlive(row.cl);
}

/** The row was deleted: its winning causal length is even. A row without `_cl` is neither live nor deleted. */
export function isTombstone(row: RowRecord): boolean {
  return row.cl !== null && !isLive(row);
}

/** The values of a row as `{column: value}`, `_cl` left out. */
export function valuesOf(row: RowRecord): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [column, version] of Object.entries(row.f)) {
    if (column !== CAUSAL_LENGTH) setOwn(values, column, version.v);
  }
  return values;
}

/** The winning changes a row holds, one per field. */
export function changesOf(row: RowRecord): Change[] {
  return Object.entries(row.f).map(([column, version]) => ({
    table: row.t,
    row: row.id,
    column,
    value: version.v,
    hlc: version.h,
    node: version.n,
  }));
}

/** The winning version of one field, as `winners()` reports it. */
export type Winner = { hlc: string; node: string; value: unknown };

/**
 * Every field's winning change, by table and row: the in-memory model of a replica's state. Merging is
 * commutative, associative and idempotent: any set of changes, delivered in any order, any number of times,
 * gives the same state.
 */
export class Replica {
  private readonly tables = new Map<string, Map<string, RowRecord>>();

  /** Merge one change; true when it became the field's value (false when it lost or was already known). */
  apply(change: Change): boolean {
    let rows = this.tables.get(change.table);
    const merged = mergeIntoRow(rows?.get(change.row), change);
    if (merged === null) return false;
    if (rows === undefined) {
      rows = new Map();
      this.tables.set(change.table, rows);
    }
    rows.set(change.row, merged);
    return true;
  }

  /** Merge changes; the number that changed the replica. */
  applyAll(changes: Iterable<Change>): number {
    let changed = 0;
    for (const change of changes) if (this.apply(change)) changed += 1;
    return changed;
  }

  /** The stored record of a row (every field with its version), live or not. */
  record(table: string, row: string): RowRecord | undefined {
    return this.tables.get(table)?.get(row);
  }

  /** Every stored row record. */
  *records(): IterableIterator<RowRecord> {
    for (const rows of this.tables.values()) yield* rows.values();
  }

  /** A row's winning causal length, or null when it has none (or a non-integer one). */
  causalLength(table: string, row: string): number | null {
    return this.record(table, row)?.cl ?? null;
  }

  /** Remove a row and its fields (a row that left the caller's scope; not a delete). */
  drop(table: string, row: string): boolean {
    return this.tables.get(table)?.delete(row) ?? false;
  }

  /** The live rows of a table as `{row id: {column: value}}`, `_cl` left out (deleted rows left out). */
  liveRows(table: string): Record<string, Record<string, unknown>> {
    const live: Record<string, Record<string, unknown>> = {};
    for (const record of this.tables.get(table)?.values() ?? []) {
      if (isLive(record)) setOwn(live, record.id, valuesOf(record));
    }
    return live;
  }

  /** The rows whose winning `_cl` is even, as `[table, row]` pairs sorted by table, then row. */
  tombstones(): [string, string][] {
    const found: [string, string][] = [];
    for (const record of this.records()) if (isTombstone(record)) found.push([record.t, record.id]);
    return found.sort((a, b) => compareUtf8(a[0], b[0]) || compareUtf8(a[1], b[1]));
  }

  /** Every field the replica holds, keyed `table/row/column`, with its winning version and value. */
  winners(): Record<string, Winner> {
    const all: Record<string, Winner> = {};
    for (const record of this.records()) {
      for (const [column, version] of Object.entries(record.f)) {
        setOwn(all, `${record.t}/${record.id}/${column}`, { hlc: version.h, node: version.n, value: version.v });
      }
    }
    return all;
  }

  /** Every winning change: the whole state as a change log with no superseded entries. */
  changes(): Change[] {
    const all: Change[] = [];
    for (const record of this.records()) all.push(...changesOf(record));
    return all;
  }
}
