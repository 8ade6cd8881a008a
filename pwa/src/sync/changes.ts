// A change: one field of one row set to one value at one hybrid-logical time (docs/sync-protocol.md 2), and
// the order of changes to one field (2.1). The TypeScript port of sync/changes.py.
import { canonicalJson, compareUtf8 } from "./canonical";
import { STAMP_PATTERN } from "./clock";

/** The field that says whether a row exists: its causal length, odd when it exists, even when deleted. */
export const CAUSAL_LENGTH = "_cl";

export type Change = {
  table: string;
  row: string;
  column: string;
  value: unknown;
  hlc: string;
  node: string;
};

/** The names a change may carry. Each regex matches the whole string (no final newline allowed). */
export const TABLE_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
export const COLUMN_PATTERN = /^(?:_cl|[a-z][a-z0-9_]{0,62})$/;
export const ROW_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const NODE_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export { STAMP_PATTERN };

export const isTableName = (s: unknown): s is string => typeof s === "string" && TABLE_PATTERN.test(s);
export const isColumnName = (s: unknown): s is string => typeof s === "string" && COLUMN_PATTERN.test(s);
export const isRowId = (s: unknown): s is string => typeof s === "string" && ROW_PATTERN.test(s);
export const isNodeId = (s: unknown): s is string => typeof s === "string" && NODE_PATTERN.test(s);

/** A valid causal length: an integer from 1 to 2^31 - 1 (what the server accepts for `_cl`). */
export function validCausalLength(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value < 2 ** 31;
}

/** Odd causal length: the row exists. Anything but a valid causal length counts as not existing. */
export function isAlive(causalLength: unknown): boolean {
  return validCausalLength(causalLength) && causalLength % 2 === 1;
}

/** The `_cl` value as the order of 2.1 ranks it: an integer as itself, anything else (garbage) as 0. */
function rankedCausalLength(value: unknown): number {
  return typeof value === "number" && Number.isInteger(value) ? value : 0;
}

/** Compare two versions `(hlc, node)`: stamps as strings, then nodes as strings. */
export function compareVersions(a: { hlc: string; node: string }, b: { hlc: string; node: string }): number {
  return compareUtf8(a.hlc, b.hlc) || compareUtf8(a.node, b.node);
}

/**
 * True when `n` should replace `o` in the same field's register (docs/sync-protocol.md 2.1):
 * for `_cl` the greater `(value, hlc, node)`, otherwise the greater `(hlc, node)`; the same version on both is
 * settled by the canonical JSON of the values, compared as UTF-8 bytes. A total order, so merging converges
 * whatever arrives first; a change does not win over itself.
 */
export function wins(n: Change, o: Change): boolean {
  if (n.column === CAUSAL_LENGTH) {
    const a = rankedCausalLength(n.value);
    const b = rankedCausalLength(o.value);
    if (a !== b) return a > b;
  }
  const order = compareVersions(n, o);
  if (order !== 0) return order > 0;
  // The same stamp from the same node twice means a buggy client; any fixed rule keeps replicas equal.
  return compareUtf8(canonicalJson(n.value), canonicalJson(o.value)) > 0;
}
