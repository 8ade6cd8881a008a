// Checksums of a replica's state (docs/sync-protocol.md 6), so a client can tell it has diverged from the server
// and download again. The TypeScript port of sync/checksum.py.
//
// Each field version has a 32-bit fingerprint: FNV-1a over the UTF-8 bytes of
// `table U+001F row U+001F column U+001F hlc U+001F node`. A state's checksum is the sum of the fingerprints of
// the field versions of its live rows (odd `_cl`, the `_cl` version included), modulo 2^32: additive, so it can
// be kept up to date row by row.
import { CAUSAL_LENGTH, type Change, isAlive } from "./changes";
import { isLive, type Replica, type RowRecord } from "./merge";

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const SEPARATOR = "\u001f";
const encoder = new TextEncoder();

/** The FNV-1a 32-bit fingerprint of one field version, as an unsigned integer. */
export function fingerprint(table: string, row: string, column: string, hlc: string, node: string): number {
  const bytes = encoder.encode([table, row, column, hlc, node].join(SEPARATOR));
  let hash = FNV_OFFSET;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, FNV_PRIME);
  return hash >>> 0;
}

export function changeFingerprint(change: Change): number {
  return fingerprint(change.table, change.row, change.column, change.hlc, change.node);
}

/** Add two checksums (or a checksum and a fingerprint) modulo 2^32. */
export function addChecksums(a: number, b: number): number {
  return (a + b) >>> 0;
}

/** Subtract `b` from `a` modulo 2^32 (a row that stopped counting). */
export function subtractChecksums(a: number, b: number): number {
  return (a - b) >>> 0;
}

/** A field version as `[table, row, column, hlc, node]`. */
export type VersionKey = readonly [table: string, row: string, column: string, hlc: string, node: string];

/** The sum of these versions' fingerprints modulo 2^32, in any order. */
export function checksumOf(versions: Iterable<VersionKey>): number {
  let sum = 0;
  for (const [table, row, column, hlc, node] of versions) {
    sum = (sum + fingerprint(table, row, column, hlc, node)) >>> 0;
  }
  return sum;
}

/** The sum of these changes' fingerprints modulo 2^32 (every change counts, live row or not). */
export function changesChecksum(changes: Iterable<Change>): number {
  let sum = 0;
  for (const change of changes) sum = (sum + changeFingerprint(change)) >>> 0;
  return sum;
}

/** What one row adds to its state's checksum: the fingerprints of all its fields when live, else 0. */
export function rowChecksum(row: RowRecord): number {
  if (!isLive(row)) return 0;
  let sum = 0;
  for (const [column, version] of Object.entries(row.f)) {
    sum = (sum + fingerprint(row.t, row.id, column, version.h, version.n)) >>> 0;
  }
  return sum;
}

/**
 * The checksum of a state given as its winning versions (one per field): the rows whose `_cl` is odd count
 * with every field, their `_cl` included; deleted rows and rows without `_cl` count for nothing.
 */
export function stateChecksum(changes: Iterable<Change>): number {
  const rows = new Map<string, { live: boolean; sum: number }>();
  for (const change of changes) {
    const key = JSON.stringify([change.table, change.row]);
    const entry = rows.get(key) ?? { live: false, sum: 0 };
    entry.sum = (entry.sum + changeFingerprint(change)) >>> 0;
    if (change.column === CAUSAL_LENGTH) entry.live = isAlive(change.value);
    rows.set(key, entry);
  }
  let total = 0;
  for (const { live, sum } of rows.values()) if (live) total = (total + sum) >>> 0;
  return total;
}

/** The checksum of an in-memory replica. */
export function replicaChecksum(replica: Replica): number {
  let total = 0;
  for (const record of replica.records()) total = (total + rowChecksum(record)) >>> 0;
  return total;
}
