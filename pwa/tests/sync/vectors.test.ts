// The language-neutral sync vectors (sync/vectors/, formats in its README.md), run against the TypeScript port.
// The Python implementation runs the same files (tests/sync/test_vectors.py).
import { decode as msgpackDecode, encode as msgpackEncode } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";
import { canonicalJson, compareUtf8 } from "../../src/sync/canonical";
import { type Change, wins } from "../../src/sync/changes";
import { checksumOf, fingerprint, replicaChecksum, stateChecksum, type VersionKey } from "../../src/sync/checksum";
import {
  ClockOverflow,
  type ClockState,
  ClockSkew,
  formatStamp,
  HybridClock,
  InvalidStamp,
  parseStamp,
  type Timestamp,
} from "../../src/sync/clock";
import { Replica } from "../../src/sync/merge";
import {
  decodeRequest,
  decodeResponse,
  encodeRequestJson,
  encodeResponseJson,
  MessageError,
  type SyncRequest,
  type SyncResponse,
  validateRequest,
  validateResponse,
  wireRequest,
  wireResponse,
} from "../../src/sync/messages";
import { DEFAULT_LIMITS, FakeSyncServer, type Problem } from "./fake-server";

// The project has no @types/node; this is the little of node:fs the test needs.
interface NodeFs {
  readFileSync(path: URL, encoding: "utf8"): string;
  readdirSync(path: URL): string[];
}
const nodeFsModule = "node:fs";
const fs = (await import(/* @vite-ignore */ nodeFsModule)) as NodeFs;

const VECTORS = new URL("../../../sync/vectors/", import.meta.url);

function load<T>(file: string): T {
  return JSON.parse(fs.readFileSync(new URL(file, VECTORS), "utf8")) as T;
}

const HANDLED = ["canonical.json", "checksum.json", "clock.json", "merge.json", "messages.json", "protocol.json"];

it("every vector file is run", () => {
  const files = fs.readdirSync(VECTORS).filter((name) => name.endsWith(".json"));
  expect(files.sort()).toStrictEqual(HANDLED);
});

// ---- clock.json ----------------------------------------------------------------------------------------------

type ClockStep =
  | { op: "now"; physical: number; expect?: Timestamp; error?: "overflow" }
  | { op: "receive"; physical: number; remote: Timestamp; expect?: Timestamp; error?: "overflow" | "skew" }
  | { op: "parse"; stamp: string; expect?: ClockState; error?: "invalid" };

interface ClockCase {
  name: string;
  node: string;
  max_drift_ms: number | null;
  steps: ClockStep[];
}

describe("clock.json", () => {
  const { cases } = load<{ cases: ClockCase[] }>("clock.json");

  for (const c of cases) {
    it(c.name, () => {
      let physical = 0;
      const clock = new HybridClock(c.node, c.max_drift_ms, () => physical);
      expect(clock.state()).toStrictEqual({ wall: 0, counter: 0 });
      for (const [i, step] of c.steps.entries()) {
        const where = `step ${i}: ${JSON.stringify(step)}`;
        if (step.op === "parse") {
          if (step.error !== undefined) {
            expect(() => parseStamp(step.stamp), where).toThrow(InvalidStamp);
          } else {
            const parsed = parseStamp(step.stamp);
            expect(parsed, where).toStrictEqual(step.expect);
            expect(formatStamp(parsed.wall, parsed.counter), where).toBe(step.stamp);
          }
          continue;
        }
        physical = step.physical;
        const run = (): Timestamp => (step.op === "now" ? clock.now() : clock.receive(step.remote));
        if (step.error !== undefined) {
          const before = clock.state();
          expect(run, where).toThrow(step.error === "skew" ? ClockSkew : ClockOverflow);
          expect(clock.state(), `${where}: a failed step leaves the clock unchanged`).toStrictEqual(before);
        } else {
          expect(run(), where).toStrictEqual(step.expect);
          // The state round-trips: a clock restored from it continues identically.
          const restored = new HybridClock(c.node, c.max_drift_ms, () => physical, clock.state());
          expect(restored.state(), where).toStrictEqual(clock.state());
        }
      }
    });
  }
});

// ---- merge.json ----------------------------------------------------------------------------------------------

interface MergeCase {
  name: string;
  changes: Change[];
  expect: {
    rows: Record<string, Record<string, Record<string, unknown>>>;
    tombstones: [string, string][];
    winners: Record<string, { hlc: string; node: string; value: unknown }>;
  };
}

function* permutations<T>(items: readonly T[]): Generator<T[]> {
  if (items.length <= 1) {
    yield [...items];
    return;
  }
  for (let i = 0; i < items.length; i++) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const tail of permutations(rest)) yield [items[i] as T, ...tail];
  }
}

function snapshot(replica: Replica, tables: Iterable<string>): MergeCase["expect"] {
  const rows: MergeCase["expect"]["rows"] = {};
  for (const table of tables) rows[table] = replica.liveRows(table);
  return { rows, tombstones: replica.tombstones(), winners: replica.winners() };
}

describe("merge.json", () => {
  const { cases } = load<{ cases: MergeCase[] }>("merge.json");

  for (const c of cases) {
    it(c.name, () => {
      expect(c.changes.length).toBeLessThanOrEqual(6);
      const tables = new Set(c.changes.map((change) => change.table));
      const orders = [c.changes, [...c.changes].reverse(), ...permutations(c.changes)];
      for (const order of orders) {
        const replica = new Replica();
        for (const change of order) replica.apply(change);
        const where = `order ${JSON.stringify(order.map((change) => c.changes.indexOf(change)))}`;
        expect(snapshot(replica, tables), where).toStrictEqual(c.expect);
        // Idempotent: delivering everything again changes nothing.
        for (const change of order) expect(replica.apply(change), `${where}: re-applied`).toBe(false);
        expect(snapshot(replica, tables), where).toStrictEqual(c.expect);
      }
    });
  }
});

// ---- checksum.json -------------------------------------------------------------------------------------------

interface ChecksumFile {
  fingerprints: {
    name: string;
    table: string;
    row: string;
    column: string;
    hlc: string;
    node: string;
    fingerprint: number;
  }[];
  checksums: { name: string; versions: VersionKey[]; checksum: number }[];
  states: { name: string; changes: Change[]; checksum: number }[];
}

describe("checksum.json", () => {
  const data = load<ChecksumFile>("checksum.json");

  describe("fingerprints", () => {
    for (const c of data.fingerprints) {
      it(c.name, () => {
        expect(fingerprint(c.table, c.row, c.column, c.hlc, c.node)).toBe(c.fingerprint);
      });
    }
  });

  describe("checksums", () => {
    for (const c of data.checksums) {
      it(c.name, () => {
        expect(checksumOf(c.versions)).toBe(c.checksum);
        expect(checksumOf([...c.versions].reverse())).toBe(c.checksum);
      });
    }
  });

  describe("states", () => {
    for (const c of data.states) {
      it(c.name, () => {
        expect(stateChecksum(c.changes)).toBe(c.checksum);
        expect(stateChecksum([...c.changes].reverse())).toBe(c.checksum);
        const replica = new Replica();
        for (const change of c.changes) replica.apply(change);
        expect(replicaChecksum(replica)).toBe(c.checksum);
      });
    }
  });
});

// ---- messages.json -------------------------------------------------------------------------------------------

type MessageType = "request" | "response";

interface MessagesFile {
  valid: { name: string; type: MessageType; json: string; msgpack: string }[];
  invalid: { name: string; type: MessageType; json?: string; msgpack?: string }[];
}

function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const codec = {
  request: {
    decodeJson: (text: string): SyncRequest | SyncResponse => decodeRequest(text),
    validate: (value: unknown): SyncRequest | SyncResponse => validateRequest(value),
    encodeJson: (message: SyncRequest | SyncResponse): string => encodeRequestJson(message as SyncRequest),
    wire: (message: SyncRequest | SyncResponse): unknown => wireRequest(message as SyncRequest),
  },
  response: {
    decodeJson: (text: string): SyncRequest | SyncResponse => decodeResponse(text),
    validate: (value: unknown): SyncRequest | SyncResponse => validateResponse(value),
    encodeJson: (message: SyncRequest | SyncResponse): string => encodeResponseJson(message as SyncResponse),
    wire: (message: SyncRequest | SyncResponse): unknown => wireResponse(message as SyncResponse),
  },
} as const;

describe("messages.json", () => {
  const data = load<MessagesFile>("messages.json");

  describe("valid", () => {
    for (const c of data.valid) {
      it(c.name, () => {
        const { decodeJson, validate, encodeJson, wire } = codec[c.type];
        const fromJson = decodeJson(c.json);
        const fromMsgpack = validate(msgpackDecode(fromHex(c.msgpack)));
        expect(fromMsgpack).toStrictEqual(fromJson);
        // JSON to JSON and MessagePack to MessagePack give the same bytes...
        expect(encodeJson(fromJson)).toBe(c.json);
        expect(toHex(msgpackEncode(wire(fromMsgpack)))).toBe(c.msgpack);
        // ...and each format to the other.
        expect(toHex(msgpackEncode(wire(fromJson)))).toBe(c.msgpack);
        expect(encodeJson(fromMsgpack)).toBe(c.json);
        // The UTF-8 bytes, too (the text is compared as a JavaScript string above).
        expect(toHex(new TextEncoder().encode(encodeJson(fromJson)))).toBe(toHex(new TextEncoder().encode(c.json)));
      });
    }
  });

  describe("invalid", () => {
    for (const c of data.invalid) {
      it(c.name, () => {
        const { decodeJson, validate } = codec[c.type];
        if (c.json !== undefined) {
          const json = c.json;
          let error: unknown;
          try {
            decodeJson(json);
          } catch (err) {
            error = err;
          }
          expect(error).toBeInstanceOf(MessageError);
          expect((error as MessageError).field).not.toBe("");
        }
        if (c.msgpack !== undefined) {
          // Either the MessagePack library cannot decode the bytes (truncated), or the message does not validate.
          let decoded: unknown;
          let decodeError: unknown;
          try {
            decoded = msgpackDecode(fromHex(c.msgpack));
          } catch (err) {
            decodeError = err;
          }
          if (decodeError === undefined) expect(() => validate(decoded)).toThrow(MessageError);
          else expect(decodeError).toBeInstanceOf(Error);
        }
        expect(c.json !== undefined || c.msgpack !== undefined).toBe(true);
      });
    }
  });
});

// ---- canonical.json ------------------------------------------------------------------------------------------

interface CanonicalFile {
  cases: { name: string; value: unknown; canonical: string }[];
  wins: { name: string; a: Change; b: Change; winner: "a" | "b" }[];
}

describe("canonical.json", () => {
  const data = load<CanonicalFile>("canonical.json");

  describe("cases", () => {
    for (const c of data.cases) {
      it(c.name, () => {
        expect(canonicalJson(c.value)).toBe(c.canonical);
      });
    }
  });

  describe("wins", () => {
    for (const c of data.wins) {
      it(c.name, () => {
        const [winner, loser] = c.winner === "a" ? [c.a, c.b] : [c.b, c.a];
        expect(wins(winner, loser)).toBe(true);
        expect(wins(loser, winner)).toBe(false);
        expect(wins(winner, winner)).toBe(false);
      });
    }
  });

  it("compareUtf8 orders by UTF-8 bytes, not UTF-16 code units", () => {
    expect(compareUtf8("😀", "Ａ")).toBeGreaterThan(0);
    expect("😀" < "Ａ").toBe(true);
  });
});

// ---- protocol.json -------------------------------------------------------------------------------------------

interface ProtocolExpect {
  results?: { status: string; code?: string; field?: string }[];
  changes?: Change[];
  cursor?: string;
  has_more?: boolean;
  server_time?: number;
  checksum?: number | null;
}

type ProtocolStep =
  | { request: Record<string, unknown>; expect: ProtocolExpect }
  | { request: Record<string, unknown>; error: { code: string; status: number } };

interface ProtocolFile {
  defaults: { limits: { max_changes: number; page_size: number; max_skew_ms: number } };
  cases: {
    name: string;
    server: {
      node: string;
      physical: number;
      schema_versions: number[];
      limits?: Partial<ProtocolFile["defaults"]["limits"]>;
    };
    steps: ProtocolStep[];
  }[];
}

const EXPECT_KEYS = ["results", "changes", "cursor", "has_more", "server_time", "checksum"];

describe("protocol.json", () => {
  const data = load<ProtocolFile>("protocol.json");

  it("the defaults are the engine's own", () => {
    const { max_changes, page_size, max_skew_ms } = data.defaults.limits;
    expect(DEFAULT_LIMITS).toStrictEqual({ maxChanges: max_changes, pageSize: page_size, maxSkewMs: max_skew_ms });
  });

  for (const c of data.cases) {
    it(c.name, () => {
      const limits = { ...data.defaults.limits, ...c.server.limits };
      const server = new FakeSyncServer({
        node: c.server.node,
        physical: c.server.physical,
        schemaVersions: c.server.schema_versions,
        limits: { maxChanges: limits.max_changes, pageSize: limits.page_size, maxSkewMs: limits.max_skew_ms },
      });
      for (const [i, step] of c.steps.entries()) {
        const where = `step ${i}`;
        // A request is a JSON object; an absent limit means null.
        const answer = server.handle(structuredClone(step.request));
        if ("error" in step) {
          expect(answer.status, where).toBe(step.error.status);
          expect((answer.body as Problem).code, where).toBe(step.error.code);
          continue;
        }
        expect(answer.status, `${where}: ${JSON.stringify(answer.body)}`).toBe(200);
        const body = answer.body as SyncResponse;
        // The answer is a valid response message, byte for byte what the JSON encoder writes.
        expect(validateResponse(JSON.parse(JSON.stringify(body)))).toStrictEqual(body);
        for (const key of Object.keys(step.expect)) expect(EXPECT_KEYS, where).toContain(key);
        const e = step.expect;
        if (e.results !== undefined) {
          // The human message is not compared.
          const results = body.results.map(({ message: _, ...rest }) => rest);
          expect(results, where).toStrictEqual(e.results);
        }
        if (e.changes !== undefined) expect(body.changes, where).toStrictEqual(e.changes);
        if (e.cursor !== undefined) expect(body.cursor, where).toBe(e.cursor);
        if (e.has_more !== undefined) expect(body.has_more, where).toBe(e.has_more);
        if (e.server_time !== undefined) expect(body.server_time, where).toBe(e.server_time);
        if (e.checksum !== undefined) expect(body.checksum, where).toBe(e.checksum);
      }
    });
  }
});
