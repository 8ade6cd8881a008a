// Canonical JSON (docs/sync-protocol.md 2.1): the last tie-breaker when two changes carry the same version, so
// it must be the same bytes in every language. No whitespace; object keys sorted by UTF-16 code units
// (JavaScript's default string order, which is what sync/vectors/canonical.json pins: an astral character
// sorts before U+FFFF); strings escaped as JSON.stringify does; numbers as ECMAScript's Number::toString writes
// them. The texts are then compared as UTF-8 bytes (`compareUtf8`), not with `<` on UTF-16 strings.

/** The canonical JSON text of a JSON value. Throws a TypeError for a value JSON cannot carry (undefined, a
 * function, a symbol, a bigint) at the top level; nested, such values are treated as JSON.stringify treats
 * them (`null` in an array, left out of an object). NaN and the infinities are written `null`, like
 * JSON.stringify and the Python reference. */
export function canonicalJson(value: unknown): string {
  const text = write(value);
  if (text === undefined) throw new TypeError(`${typeof value} is not a JSON value`);
  return text;
}

const encoder = new TextEncoder();

/** The UTF-8 bytes of the canonical JSON of `value`. */
export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalJson(value));
}

function write(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      // String(-0) is "0"; non-finite numbers have no JSON form and are written as JSON.stringify does.
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      throw new TypeError("a bigint is not a JSON value");
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
    case "object":
      break;
  }
  if (value === null) return "null";
  if (Array.isArray(value)) {
    const items: string[] = [];
    for (const item of value as unknown[]) items.push(write(item) ?? "null");
    return `[${items.join(",")}]`;
  }
  // Default sort compares UTF-16 code units: the order the specification pins.
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const text = write(record[key]);
    if (text !== undefined) parts.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${parts.join(",")}}`;
}

/**
 * Compare two strings as their UTF-8 bytes (negative, zero or positive). UTF-8 byte order is code point order,
 * so this walks code points; a lone surrogate counts as U+FFFD, which is what encoding it to UTF-8 writes.
 * JavaScript's `<` compares UTF-16 code units instead, which differs for astral characters against U+E000..U+FFFF.
 */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = codePointAt(a, i);
    const y = codePointAt(b, j);
    if (x !== y) return x < y ? -1 : 1;
    i += x > 0xffff ? 2 : 1;
    j += y > 0xffff ? 2 : 1;
  }
  if (i < a.length) return 1;
  if (j < b.length) return -1;
  return 0;
}

function codePointAt(s: string, index: number): number {
  const cp = s.codePointAt(index) ?? 0;
  return cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp;
}
