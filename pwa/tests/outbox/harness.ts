// Shared set-up for the outbox and sync-client tests: a fresh IndexedDB database per replica (fake-indexeddb),
// a session in its meta, and a stubbed global `fetch` that routes `POST /api/v1/sync` to a FakeSyncServer.
import "fake-indexeddb/auto";
import { vi } from "vitest";
import type { Session } from "../../src/api";
import { FieldbookDB, setMeta, useDatabase } from "../../src/db/db";
import type { Change } from "../../src/sync/changes";
import type { RowRecord } from "../../src/sync/merge";
import { FakeSyncServer, type FakeServerOptions } from "../sync/fake-server";

/** The machine's real clock, taken before any test moves `Date.now` (the phone's clock). */
export const realNow: () => number = Date.now.bind(Date);

let phoneAheadMs = 0;

/** Make the phone's clock (`Date.now`) run `ms` ahead of the real time (and of the fake server). */
export function setPhoneClockAhead(ms: number): void {
  phoneAheadMs = ms;
  vi.spyOn(Date, "now").mockImplementation(() => realNow() + phoneAheadMs);
}

let serial = 0;

/** A replica: its own database, switched to with `use()` before calling the app's modules. */
export class Device {
  readonly db: FieldbookDB;
  constructor(
    readonly clientId: string,
    name = `fieldbook-test-${++serial}-${clientId}`,
  ) {
    this.db = new FieldbookDB(name);
  }

  use(): this {
    useDatabase(this.db);
    return this;
  }

  /** Log in: the session lives in meta (src/session.ts writes the same keys). */
  async login(): Promise<this> {
    this.use();
    await setMeta("clientId", this.clientId);
    await setMeta("session", session(this.clientId));
    return this;
  }

  async outbox(): Promise<Change[]> {
    return (await this.db.outbox.orderBy("seq").toArray()).map((e) => e.change);
  }

  /** Every stored row record, sorted, for comparing two replicas. */
  async records(): Promise<RowRecord[]> {
    const all = await this.db.rows.toArray();
    return all.sort((a, b) => (a.t + "\u001f" + a.id < b.t + "\u001f" + b.id ? -1 : 1));
  }
}

export function session(clientId: string): Session {
  return {
    token: `token-${clientId}`,
    expiresAt: "2999-01-01T00:00:00Z",
    clientId,
    user: { id: `user-${clientId}`, email: "rep@example.com", name: "Rep", role: "rep", time_zone: null, locale: null },
    org: { id: "org-1", name: "Org", time_zone: "Europe/London", locale: "en-GB", currency: "GBP" },
  };
}

export type NetMode =
  /** The server answers. */
  | "online"
  /** fetch throws a TypeError, as browsers do without a network. */
  | "offline"
  /** The request reaches the server and is applied, then the connection drops before the answer. */
  | "lose-answer";

/**
 * The network between the phone and a fake server: a `fetch` that hands each sync request's JSON to the server
 * (whose physical time is the real time) and answers with its status and JSON body.
 */
export class Network {
  mode: NetMode = "online";
  /** Answer the next requests with this status and problem instead of asking the server. */
  refuse: { status: number; code: string } | null = null;
  /** Runs after the server handled a request and before the phone gets the answer (e.g. an edit meanwhile). */
  beforeAnswer: ((request: number) => Promise<void>) | null = null;
  /** The JSON bodies the phone sent, parsed, in order (including those that got no answer). */
  readonly sent: { cursor: string | null; changes: Change[]; client_id: string; limit: number | null }[] = [];
  /** The answers the phone received, parsed. */
  readonly answers: { status: number; body: Record<string, unknown> }[] = [];
  readonly server: FakeSyncServer;
  /** The server's physical time is the real time plus this (to let time pass for both, with the phone's clock). */
  serverAheadMs = 0;

  constructor(options: FakeServerOptions = {}) {
    this.server = new FakeSyncServer({ physical: realNow(), ...options });
  }

  install(): void {
    vi.stubGlobal("fetch", this.fetch);
  }

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (url !== "/api/v1/sync" || init?.method !== "POST") throw new Error(`unexpected request ${url}`);
    const text = String(init.body);
    this.sent.push(JSON.parse(text) as Network["sent"][number]);
    if (this.mode === "offline") throw new TypeError("Failed to fetch");
    if (this.refuse) {
      const { status, code } = this.refuse;
      const body = { status, code, title: "Refused", detail: `refused: ${code}`, errors: [], type: "about:blank" };
      this.answers.push({ status, body });
      return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/problem+json" } });
    }
    this.server.setPhysical(realNow() + this.serverAheadMs);
    const answer = this.server.handleJson(text);
    if (this.beforeAnswer) await this.beforeAnswer(this.sent.length - 1);
    if (this.mode === "lose-answer") throw new TypeError("network connection was lost");
    this.answers.push({ status: answer.status, body: JSON.parse(answer.body) as Record<string, unknown> });
    return new Response(answer.body, { status: answer.status, headers: { "Content-Type": "application/json" } });
  };
}

/** A change as another replica (or the back office) would have made it, stamped `ms` from the real time. */
export function remoteChange(
  table: string,
  row: string,
  column: string,
  value: unknown,
  node: string,
  atMs: number = realNow(),
  counter = 0,
): Change {
  const hlc = `${atMs.toString(16).padStart(12, "0")}-${counter.toString(16).padStart(4, "0")}`;
  return { table, row, column, value, hlc, node };
}

/** Close and delete the databases of the given devices. */
export async function dispose(...devices: Device[]): Promise<void> {
  for (const device of devices) {
    await device.db.delete();
  }
}
