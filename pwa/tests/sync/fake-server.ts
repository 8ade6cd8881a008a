// An in-memory sync server for tests: the engine of sync/protocol.py over sync/store.py's MemoryStore, written
// from sync/vectors/protocol.json's description. Every field version the server stores gets the next sequence
// number; cursors are `v1:<seq>`, with `:full` while a download that began with `cursor: null` is still paging.
// The policy allows everything unless a test gives one; every caller sees the whole state (no scopes).
import { CAUSAL_LENGTH, type Change, isAlive, validCausalLength } from "../../src/sync/changes";
import { rowChecksum } from "../../src/sync/checksum";
import { ClockError, HybridClock, parseStamp } from "../../src/sync/clock";
import { fieldOf, Replica } from "../../src/sync/merge";
import {
  BAD_CLIENT_ID,
  BAD_CURSOR,
  CLOCK_SKEW,
  INVALID_VALUE,
  MessageError,
  MUST_REFETCH,
  NOT_ALLOWED,
  PROTOCOL,
  type Result,
  SERVER_NODE_PREFIX,
  type SyncRequest,
  type SyncResponse,
  TOO_MANY_CHANGES,
  UNKNOWN_SCHEMA,
  UNSUPPORTED_PROTOCOL,
  validateRequest,
  wireResponse,
} from "../../src/sync/messages";

export interface Limits {
  maxChanges: number;
  pageSize: number;
  maxSkewMs: number;
}

/** The engine's own defaults (sync/protocol.py `Limits`). */
export const DEFAULT_LIMITS: Readonly<Limits> = { maxChanges: 5_000, pageSize: 1_000, maxSkewMs: 5 * 60 * 1000 };

/** Why a change is refused: what a policy answers (sync/store.py `Rejection`). */
export interface Rejection {
  code: string;
  message: string;
  field?: string | null;
}

/** For each change, null when the caller may make it, or why not. */
export type Policy = (change: Change, clientId: string) => Rejection | null;

export const allowAll: Policy = () => null;

export interface FakeServerOptions {
  /** The server clock's node (its own changes carry it). Default "server". */
  node?: string;
  /** Physical time in ms; stays put until `setPhysical` or `advance`. Default 1,700,000,000,000. */
  physical?: number;
  /** The schema versions the server knows. Default [1]. */
  schemaVersions?: readonly number[];
  limits?: Partial<Limits>;
  policy?: Policy;
  /** The largest body `handleJson` takes (`request.too_large`, 413). Default 10 MB. */
  maxBodyBytes?: number;
}

/** The answer to one request: an HTTP status and its body (a SyncResponse, or problem details). */
export interface FakeAnswer {
  status: number;
  body: SyncResponse | Problem;
}

/** problem+json as the backend writes it (backend/errors.py `Problem`). */
export interface Problem {
  status: number;
  code: string;
  title: string;
  detail: string;
  errors: { field: string; message: string }[];
  type: string;
}

/** The whole request is refused; nothing was applied (sync/protocol.py `SyncRefused`). */
export class SyncRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const CURSOR = /^v1:(\d{1,19})(:full)?$/;

export function formatCursor(seq: number, full = false): string {
  return full ? `v1:${seq}:full` : `v1:${seq}`;
}

/** [sequence number, whether a full download is in progress]; [null, true] for a null cursor. */
export function parseCursor(cursor: string | null): [number | null, boolean] {
  if (cursor === null) return [null, true];
  const match = CURSOR.exec(cursor);
  if (!match) throw new SyncRefused(BAD_CURSOR, `${JSON.stringify(cursor)} is not a cursor this server issued`);
  // Up to 19 digits may pass 2^53; such a cursor is ahead of any state this server can reach anyway.
  return [Number(match[1]), match[2] !== undefined];
}

const fieldKey = (table: string, row: string, column: string): string => JSON.stringify([table, row, column]);

interface Pull {
  changes: Change[];
  cursor: number;
  hasMore: boolean;
  checksum: number;
}

/** The server's state: every winning field version with the sequence number it was stored at (MemoryStore). */
export class MemoryStore {
  readonly replica = new Replica();
  /** Field key to sequence number, and sequence number to field (in increasing order: a Map keeps insertion). */
  private readonly seqOf = new Map<string, number>();
  private readonly bySeq = new Map<number, { table: string; row: string; column: string }>();
  lastSeq = 0;
  purgedThrough = 0;

  /** Merge changes; each one that wins gets the next sequence number. */
  apply(changes: Iterable<Change>): void {
    for (const change of changes) {
      if (!this.replica.apply(change)) continue;
      const key = fieldKey(change.table, change.row, change.column);
      const old = this.seqOf.get(key);
      if (old !== undefined) this.bySeq.delete(old);
      this.lastSeq += 1;
      this.seqOf.set(key, this.lastSeq);
      this.bySeq.set(this.lastSeq, { table: change.table, row: change.row, column: change.column });
    }
  }

  /** (horizon, last sequence number): the cursors that still give a complete answer lie between the two. */
  bounds(): [number, number] {
    return [this.purgedThrough, this.lastSeq];
  }

  /**
   * Up to `limit` winning changes with a sequence number above `cursor`, in order; changes made by
   * `excludeNode` are skipped (the cursor still moves past them).
   */
  pull(cursor: number | null, limit: number, excludeNode: string | null): Pull {
    const after = cursor ?? 0;
    const page: { seq: number; change: Change }[] = [];
    let hasMore = false;
    for (const [seq, { table, row, column }] of this.bySeq) {
      if (seq <= after) continue;
      const change = this.changeAt(table, row, column);
      if (change.node === excludeNode) continue;
      if (page.length === limit) {
        hasMore = true;
        break;
      }
      page.push({ seq, change });
    }
    const last = page[page.length - 1];
    // Past the page's last change; when nothing more is wanted, past everything (own changes included).
    const next = hasMore && last !== undefined ? last.seq : Math.max(after, this.lastSeq);
    return { changes: page.map((p) => p.change), cursor: next, hasMore, checksum: this.checksum() };
  }

  /** The checksum of the whole state: live rows only. */
  checksum(): number {
    let total = 0;
    for (const record of this.replica.records()) total = (total + rowChecksum(record)) >>> 0;
    return total;
  }

  /** Forget deleted rows whose deletion is at or before `olderThanSeq`; older cursors must refetch. */
  purgeTombstones(olderThanSeq: number): number {
    let purged = 0;
    for (const record of [...this.replica.records()]) {
      const clSeq = this.seqOf.get(fieldKey(record.t, record.id, CAUSAL_LENGTH));
      if (record.cl === null || isAlive(record.cl) || clSeq === undefined || clSeq > olderThanSeq) continue;
      for (const column of Object.keys(record.f)) {
        const key = fieldKey(record.t, record.id, column);
        const seq = this.seqOf.get(key);
        if (seq !== undefined) this.bySeq.delete(seq);
        this.seqOf.delete(key);
      }
      this.replica.drop(record.t, record.id);
      purged += 1;
    }
    this.purgedThrough = Math.max(this.purgedThrough, olderThanSeq);
    return purged;
  }

  private changeAt(table: string, row: string, column: string): Change {
    const version = fieldOf(this.replica.record(table, row), column);
    if (version === undefined) throw new Error(`no stored version for ${table}/${row}/${column}`);
    return { table, row, column, value: version.v, hlc: version.h, node: version.n };
  }
}

/**
 * The fake server. `handle(request)` answers one `POST /api/v1/sync` whose body is `request` (a plain object,
 * as parsed from JSON): `{status: 200, body: SyncResponse}`, or an error status with problem details.
 */
export class FakeSyncServer {
  readonly store = new MemoryStore();
  readonly clock: HybridClock;
  readonly limits: Readonly<Limits>;
  readonly schemaVersions: readonly number[];
  policy: Policy;
  readonly maxBodyBytes: number;
  private physical: number;
  /** Every request handled, as received (for assertions in client tests). */
  readonly requests: unknown[] = [];

  constructor(options: FakeServerOptions = {}) {
    this.physical = options.physical ?? 1_700_000_000_000;
    this.clock = new HybridClock(options.node ?? "server", null, () => this.physical);
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.schemaVersions = options.schemaVersions ?? [1];
    this.policy = options.policy ?? allowAll;
    this.maxBodyBytes = options.maxBodyBytes ?? 10 * 1024 * 1024;
  }

  /** Set the server's physical time (ms since the epoch); it stays there until set again. */
  setPhysical(ms: number): void {
    this.physical = ms;
  }

  advance(ms: number): void {
    this.physical += ms;
  }

  now(): number {
    return this.physical;
  }

  /** Answer one sync request given as a plain object. */
  handle(request: unknown): FakeAnswer {
    this.requests.push(request);
    let message: SyncRequest;
    try {
      message = validateRequest(request);
    } catch (err) {
      if (!(err instanceof MessageError)) throw err;
      return problem(400, err.malformed ? "request.malformed" : "validation.invalid", "Invalid input", err.message, [
        { field: err.field, message: err.reason },
      ]);
    }
    try {
      this.check(message);
      const results = this.push(message);
      return { status: 200, body: wireResponse(this.respond(message, results)) };
    } catch (err) {
      if (!(err instanceof SyncRefused)) throw err;
      return problem(err.status, err.code, "Sync refused", err.message, []);
    }
  }

  /** Answer a request body given as JSON text, with the JSON text of the answer (for a fake `fetch`). */
  handleJson(text: string): { status: number; body: string } {
    const size = new TextEncoder().encode(text).length;
    if (size > this.maxBodyBytes) {
      const detail = `${size} bytes; at most ${this.maxBodyBytes}`;
      const answer = problem(413, "request.too_large", "Request too large", detail, []);
      return { status: answer.status, body: JSON.stringify(answer.body) };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text) as unknown;
    } catch (err) {
      const answer = problem(400, "request.malformed", "Invalid input", (err as Error).message, [
        { field: "body", message: (err as Error).message },
      ]);
      return { status: answer.status, body: JSON.stringify(answer.body) };
    }
    const answer = this.handle(parsed);
    return { status: answer.status, body: JSON.stringify(answer.body) };
  }

  /** Store changes as if someone else's push had been accepted (no checks; the clock moves past them). */
  write(changes: Iterable<Change>): void {
    const list = [...changes];
    for (const change of list) this.receive(change);
    this.store.apply(list);
  }

  /** A change written by the server itself (a derived field), stamped by its clock, and stored. */
  serverWrite(table: string, row: string, column: string, value: unknown): Change {
    const { stamp, node } = this.clock.now();
    const change: Change = { table, row, column, value, hlc: stamp, node };
    this.store.apply([change]);
    return change;
  }

  /** Refuse a request that is wrong as a whole (protocol, schema version, size, client id, cursor syntax). */
  private check(request: SyncRequest): void {
    if (request.protocol !== PROTOCOL) {
      throw new SyncRefused(UNSUPPORTED_PROTOCOL, `protocol ${request.protocol} is not supported; use ${PROTOCOL}`);
    }
    if (!this.schemaVersions.includes(request.schema_version)) {
      throw new SyncRefused(
        UNKNOWN_SCHEMA,
        `schema version ${request.schema_version} is unknown here ` +
          `(known: ${[...this.schemaVersions].sort((a, b) => a - b).join(", ")}); ` +
          "update the app or wait for the server to be upgraded",
      );
    }
    if (request.changes.length > this.limits.maxChanges) {
      throw new SyncRefused(
        TOO_MANY_CHANGES,
        `${request.changes.length} changes in one request; at most ${this.limits.maxChanges}`,
        413,
      );
    }
    if (request.client_id.startsWith(SERVER_NODE_PREFIX)) {
      throw new SyncRefused(BAD_CLIENT_ID, `client ids starting with "${SERVER_NODE_PREFIX}" are the server's`);
    }
    parseCursor(request.cursor);
  }

  private checkCursor(request: SyncRequest): number | null {
    const [cursor] = parseCursor(request.cursor);
    if (cursor === null) return null;
    const [horizon, last] = this.store.bounds();
    if (cursor < horizon) {
      throw new SyncRefused(
        MUST_REFETCH,
        "this replica is older than the server keeps deletions for; download it again",
        409,
      );
    }
    if (cursor > last) {
      throw new SyncRefused(
        MUST_REFETCH,
        `this replica is ahead of the server (cursor ${cursor}, server at ${last}): the server's data was ` +
          "restored from an earlier backup; download again, then send the outbox again",
        409,
      );
    }
    return cursor;
  }

  /** Review every change (node, _cl, clock skew, then the policy) and merge the accepted ones. */
  private push(request: SyncRequest): Result[] {
    this.checkCursor(request);
    // Skew uses physical time: the HLC moves ahead with every stamp it accepts.
    const physical = this.clock.physical();
    const accepted: Change[] = [];
    const results = request.changes.map((change): Result => {
      if (change.node !== request.client_id) {
        const message = `a change must carry this client's id as its node ("${request.client_id}")`;
        return rejected(NOT_ALLOWED, message, "node");
      }
      if (change.column === CAUSAL_LENGTH && !validCausalLength(change.value)) {
        return rejected(INVALID_VALUE, "_cl must be a positive integer below 2**31", CAUSAL_LENGTH);
      }
      const wall = parseStamp(change.hlc).wall;
      if (wall - physical > this.limits.maxSkewMs) {
        return rejected(
          CLOCK_SKEW,
          `stamped ${wall - physical} ms ahead of the server (server_time ${physical}); ` +
            "correct the clock offset and stamp the change again",
          "hlc",
        );
      }
      const verdict = this.policy(change, request.client_id);
      if (verdict !== null) return rejected(verdict.code, verdict.message, verdict.field ?? null);
      accepted.push(change);
      this.receive(change);
      return { status: "accepted" };
    });
    if (accepted.length > 0) this.store.apply(accepted);
    return results;
  }

  /** The answer: the push's results and a page of what the caller has not seen. */
  private respond(request: SyncRequest, results: Result[]): SyncResponse {
    const cursor = this.checkCursor(request);
    const [, full] = parseCursor(request.cursor);
    // A replica has what it made itself, except when it downloads everything again (cursor null).
    const exclude = full ? null : request.client_id;
    const limit = Math.min(request.limit ?? this.limits.pageSize, this.limits.pageSize);
    const pull = this.store.pull(cursor, limit, exclude);
    return {
      results,
      changes: pull.changes,
      removed: [],
      cursor: formatCursor(pull.cursor, full && pull.hasMore),
      has_more: pull.hasMore,
      server_time: this.clock.physical(),
      checksum: pull.checksum,
    };
  }

  private receive(change: Change): void {
    try {
      this.clock.receive({ stamp: change.hlc, node: change.node });
    } catch (err) {
      // Skew was checked before; an overflowing counter only delays the server's own next stamps.
      if (!(err instanceof ClockError)) throw err;
    }
  }
}

function rejected(code: string, message: string, field: string | null): Result {
  const result: Result = { status: "rejected", code, message };
  if (field !== null) result.field = field;
  return result;
}

function problem(
  status: number,
  code: string,
  title: string,
  detail: string,
  errors: { field: string; message: string }[],
): FakeAnswer & { body: Problem } {
  return { status, body: { status, code, title, detail, errors, type: "about:blank" } };
}
