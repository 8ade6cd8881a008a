// The wire messages (docs/sync-protocol.md 3): one request both pushes and pulls. The TypeScript port of
// sync/messages.py. The app talks JSON; the `wire*` and `validate*` functions work on plain objects, so tests
// can check MessagePack bytes with a MessagePack library of their own.
//
// Byte-exact encoding (sync/vectors/README.md): keys in declaration order, every key present (null for an
// absent optional field), except a result, which leaves out `code`, `message` and `field` when absent; compact
// JSON with non-ASCII written raw, escaping as JSON.stringify does; numbers as JavaScript prints them.
import { type Change, isColumnName, isNodeId, isRowId, isTableName } from "./changes";
import { isStamp } from "./clock";

export const PROTOCOL = 1;
export const MIN_LIMIT = 1;
export const MAX_LIMIT = 10_000;

/** Per-change rejection codes (in `results`). */
export const NOT_ALLOWED = "sync.not_allowed";
export const INVALID_VALUE = "sync.invalid_value";
export const UNKNOWN_TABLE = "sync.unknown_table";
export const UNKNOWN_COLUMN = "sync.unknown_column";
export const SERVER_OWNED = "sync.server_owned";
export const CLOCK_SKEW = "sync.clock_skew";
export const NO_SUCH_ROW = "sync.no_such_row";
export const INCOMPLETE_ROW = "sync.incomplete_row";

/** Request-level error codes (the whole request is refused, nothing applied). */
export const UNSUPPORTED_PROTOCOL = "sync.unsupported_protocol";
export const UNKNOWN_SCHEMA = "sync.unknown_schema";
export const MUST_REFETCH = "sync.must_refetch";
export const TOO_MANY_CHANGES = "sync.too_many_changes";
export const BAD_CURSOR = "sync.bad_cursor";
export const BAD_CLIENT_ID = "sync.bad_client_id";

/** Node ids starting with this are the server's own; no client may use one. */
export const SERVER_NODE_PREFIX = "server";

export type SyncRequest = {
  protocol: number;
  schema_version: number;
  client_id: string;
  cursor: string | null;
  changes: Change[];
  limit: number | null;
};

export type ResultStatus = "accepted" | "rejected";

/** The answer to `changes[i]` of the request. `code`, `message` and `field` are left out when absent. */
export type Result = {
  status: ResultStatus;
  code?: string;
  message?: string;
  field?: string;
};

/** A row that left the caller's scope: drop it locally (it is not deleted for others). */
export type RemovedRow = { table: string; row: string };

export type SyncResponse = {
  results: Result[];
  changes: Change[];
  removed: RemovedRow[];
  cursor: string;
  has_more: boolean;
  server_time: number;
  checksum: number | null;
};

/**
 * A message that does not decode: `field` names where (`client_id`, `changes[2].hlc`, `body` for the message
 * as a whole); `malformed` when the text is not JSON at all (the server answers `request.malformed` then,
 * `validation.invalid` otherwise).
 */
export class MessageError extends Error {
  override readonly name = "MessageError";
  constructor(
    readonly field: string,
    readonly reason: string,
    readonly malformed = false,
  ) {
    super(`${field}: ${reason}`);
  }
}

// ---- encoding ---------------------------------------------------------------------------------------------

/** A change as its wire object: the six keys in declaration order, nothing else. */
export function wireChange(change: Change): Change {
  return {
    table: change.table,
    row: change.row,
    column: change.column,
    value: change.value,
    hlc: change.hlc,
    node: change.node,
  };
}

/** A result as its wire object: `status`, then `code`, `message`, `field` when present. */
export function wireResult(result: Result): Result {
  const wire: Result = { status: result.status };
  if (result.code != null) wire.code = result.code;
  if (result.message != null) wire.message = result.message;
  if (result.field != null) wire.field = result.field;
  return wire;
}

/** A request as its wire object, keys in declaration order, `null` for an absent cursor or limit. */
export function wireRequest(request: SyncRequest): SyncRequest {
  return {
    protocol: request.protocol,
    schema_version: request.schema_version,
    client_id: request.client_id,
    cursor: request.cursor ?? null,
    changes: (request.changes ?? []).map(wireChange),
    limit: request.limit ?? null,
  };
}

/** A response as its wire object, keys in declaration order, `removed: []` and `checksum: null` when absent. */
export function wireResponse(response: SyncResponse): SyncResponse {
  return {
    results: response.results.map(wireResult),
    changes: response.changes.map(wireChange),
    removed: (response.removed ?? []).map((r) => ({ table: r.table, row: r.row })),
    cursor: response.cursor,
    has_more: response.has_more,
    server_time: response.server_time,
    checksum: response.checksum ?? null,
  };
}

/** The exact JSON text of a request. Throws a MessageError naming the field when the request is not valid. */
export function encodeRequestJson(request: SyncRequest): string {
  return JSON.stringify(validateRequest(wireRequest(request)));
}

/** The exact JSON text of a response. Throws a MessageError naming the field when the response is not valid. */
export function encodeResponseJson(response: SyncResponse): string {
  return JSON.stringify(validateResponse(wireResponse(response)));
}

// ---- decoding ---------------------------------------------------------------------------------------------

function parseJson(text: string): unknown {
  if (typeof text !== "string") throw new MessageError("body", "not a JSON text", true);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new MessageError("body", `not JSON (${(err as Error).message})`, true);
  }
}

/** Decode and validate a request's JSON text. */
export function decodeRequest(text: string): SyncRequest {
  return validateRequest(parseJson(text));
}

/** Decode and validate a response's JSON text. */
export function decodeResponse(text: string): SyncResponse {
  return validateResponse(parseJson(text));
}

type Fields = Record<string, unknown>;

function isPlainObject(value: unknown): value is Fields {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** `value` as an object with exactly the keys `allowed` permits (all of them when `strict` is false). */
function object(value: unknown, path: string, allowed: readonly string[], strict: boolean): Fields {
  if (!isPlainObject(value)) throw new MessageError(path || "body", `expected an object, got ${kind(value)}`);
  if (strict) {
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) throw new MessageError(join(path, key), "unknown field");
    }
  }
  return value;
}

function kind(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return "bytes";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function has(fields: Fields, key: string): boolean {
  return Object.hasOwn(fields, key);
}

function required(fields: Fields, key: string, path: string): unknown {
  if (!has(fields, key)) throw new MessageError(join(path, key), "missing required field");
  return fields[key];
}

function integer(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    const shown = typeof value === "number" ? ` ${value}` : "";
    throw new MessageError(path, `expected an integer, got ${kind(value)}${shown}`);
  }
  return value;
}

function string(value: unknown, path: string): string {
  if (typeof value !== "string") throw new MessageError(path, `expected a string, got ${kind(value)}`);
  return value;
}

function boolean(value: unknown, path: string): boolean {
  if (typeof value !== "boolean") throw new MessageError(path, `expected a boolean, got ${kind(value)}`);
  return value;
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new MessageError(path, `expected an array, got ${kind(value)}`);
  return value as unknown[];
}

function matching(value: unknown, path: string, test: (s: unknown) => boolean, what: string): string {
  const text = string(value, path);
  if (!test(text)) throw new MessageError(path, `${JSON.stringify(text)} is not ${what}`);
  return text;
}

/** A JSON value: null, a boolean, a finite number, a string, an array or a plain object of JSON values. */
export function isJsonValue(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
    case "object":
      if (value === null) return true;
      if (Array.isArray(value)) return (value as unknown[]).every(isJsonValue);
      return isPlainObject(value) && Object.values(value).every(isJsonValue);
    default:
      return false;
  }
}

const CHANGE_KEYS = ["table", "row", "column", "value", "hlc", "node"] as const;

/** Validate one change (unknown fields refused, every field required, names checked). */
export function validateChange(value: unknown, path = ""): Change {
  const fields = object(value, path, CHANGE_KEYS, true);
  const table = matching(required(fields, "table", path), join(path, "table"), isTableName, "a table name");
  const row = matching(required(fields, "row", path), join(path, "row"), isRowId, "a row id");
  const column = matching(required(fields, "column", path), join(path, "column"), isColumnName, "a column name");
  const changeValue = required(fields, "value", path);
  if (!isJsonValue(changeValue)) {
    throw new MessageError(join(path, "value"), `${kind(changeValue)} is not a JSON value`);
  }
  const hlc = matching(required(fields, "hlc", path), join(path, "hlc"), isStamp, "an HLC stamp");
  const node = matching(required(fields, "node", path), join(path, "node"), isNodeId, "a node id");
  return { table, row, column, value: changeValue, hlc, node };
}

function changes(value: unknown, path: string): Change[] {
  return array(value, path).map((item, i) => validateChange(item, `${path}[${i}]`));
}

const REQUEST_KEYS = ["protocol", "schema_version", "client_id", "cursor", "changes", "limit"] as const;

/**
 * Validate a request given as a plain object (parsed JSON or decoded MessagePack) and return it in declaration
 * order. As in the reference, `cursor`, `changes` and `limit` may be absent (null, [], null; an `undefined`
 * property counts as absent); unknown fields are refused, in the request and in each change.
 */
export function validateRequest(value: unknown): SyncRequest {
  const fields = object(value, "", REQUEST_KEYS, true);
  const protocol = integer(required(fields, "protocol", ""), "protocol");
  const schemaVersion = integer(required(fields, "schema_version", ""), "schema_version");
  const clientId = matching(required(fields, "client_id", ""), "client_id", isNodeId, "a client id");
  const cursor = fields.cursor == null ? null : string(fields.cursor, "cursor");
  const list = fields.changes === undefined ? [] : changes(fields.changes, "changes");
  const limit = fields.limit == null ? null : integer(fields.limit, "limit");
  if (limit !== null && (limit < MIN_LIMIT || limit > MAX_LIMIT)) {
    throw new MessageError("limit", `${limit} is outside ${MIN_LIMIT}..${MAX_LIMIT}`);
  }
  return { protocol, schema_version: schemaVersion, client_id: clientId, cursor, changes: list, limit };
}

const RESULT_KEYS = ["status", "code", "message", "field"] as const;

function optionalString(fields: Fields, key: string, path: string): string | undefined {
  const value = fields[key];
  return value === null || value === undefined ? undefined : string(value, join(path, key));
}

function validateResult(value: unknown, path: string): Result {
  const fields = object(value, path, RESULT_KEYS, false);
  const status = string(required(fields, "status", path), join(path, "status"));
  if (status !== "accepted" && status !== "rejected") {
    throw new MessageError(join(path, "status"), `${JSON.stringify(status)} is not "accepted" or "rejected"`);
  }
  return wireResult({
    status,
    code: optionalString(fields, "code", path),
    message: optionalString(fields, "message", path),
    field: optionalString(fields, "field", path),
  });
}

function validateRemoved(value: unknown, path: string): RemovedRow {
  const fields = object(value, path, ["table", "row"], false);
  return {
    table: string(required(fields, "table", path), join(path, "table")),
    row: string(required(fields, "row", path), join(path, "row")),
  };
}

const RESPONSE_KEYS = ["results", "changes", "removed", "cursor", "has_more", "server_time", "checksum"] as const;

/**
 * Validate a response given as a plain object and return it in declaration order. As in the reference
 * (sync/messages.py), `removed` and `checksum` may be absent ([] and null), and fields a newer server may add
 * to the response, its results or its removed rows are ignored (and dropped); each change is validated
 * strictly, unknown fields included.
 */
export function validateResponse(value: unknown): SyncResponse {
  const fields = object(value, "", RESPONSE_KEYS, false);
  const results = array(required(fields, "results", ""), "results").map((r, i) => validateResult(r, `results[${i}]`));
  const list = changes(required(fields, "changes", ""), "changes");
  const removed =
    fields.removed === undefined
      ? []
      : array(fields.removed, "removed").map((r, i) => validateRemoved(r, `removed[${i}]`));
  const cursor = string(required(fields, "cursor", ""), "cursor");
  const hasMore = boolean(required(fields, "has_more", ""), "has_more");
  const serverTime = integer(required(fields, "server_time", ""), "server_time");
  const checksum = fields.checksum == null ? null : integer(fields.checksum, "checksum");
  return { results, changes: list, removed, cursor, has_more: hasMore, server_time: serverTime, checksum };
}
