// The phone's outbox and sync client (docs/sync-protocol.md 3, 3.1, 4, 6) against the in-memory fake server:
// src/db/replica.ts (edits, merging pulled changes, checksum, restamping, full downloads) and
// src/sync/client.ts (syncOnce, requestSync and its statuses), on fake-indexeddb.
import "fake-indexeddb/auto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, NetworkError } from "../../src/api";
import { getMeta } from "../../src/db/db";
import {
  applyPulled,
  clockOffset,
  edit,
  getRow,
  liveRows,
  replicaChecksum,
} from "../../src/db/replica";
import { requestSync, syncOnce, syncStatus } from "../../src/sync/client";
import { parseStamp } from "../../src/sync/clock";
import type { Change } from "../../src/sync/changes";
import { Device, dispose, Network, realNow, remoteChange, setPhoneClockAhead } from "./harness";

const CLIENT = "dev-phone-1";
const OTHER = "dev-other-9";

let phone: Device;
let net: Network;

beforeEach(async () => {
  phone = await new Device(CLIENT).login();
  net = new Network();
  net.install();
});

afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  await dispose(phone);
});

/** A new visit with the fields the server needs (8, "A new visit needs store_id and state"). */
async function newVisit(id: string, extra: Record<string, unknown> = {}): Promise<number> {
  return edit("visit", id, { store_id: "store-1", state: "planned", notes: "", ...extra }, { create: true });
}

function serverRow(table: string, id: string): Record<string, unknown> | undefined {
  return net.server.store.replica.liveRows(table)[id];
}

/** Every field version the server stores, as changes (one per field). */
function serverChanges(): Change[] {
  return net.server.store.replica.changes();
}

const key = (c: Change) => `${c.table}/${c.row}/${c.column}`;

// ---- edits: row and outbox in one transaction ------------------------------------------------------------------

describe("edit", () => {
  it("writes the row and its changes to the outbox together", async () => {
    const written = await newVisit("v1", { notes: "first" });
    expect(written).toBe(4);
    const outbox = await phone.outbox();
    expect(outbox.map((c) => [c.column, c.value])).toStrictEqual([
      ["_cl", 1],
      ["store_id", "store-1"],
      ["state", "planned"],
      ["notes", "first"],
    ]);
    const record = await phone.db.rows.get(["visit", "v1"]);
    expect(record?.cl).toBe(1);
    // The row holds exactly the versions of the changes in the outbox.
    for (const change of outbox) {
      expect(record?.f[change.column]).toStrictEqual({ v: change.value, h: change.hlc, n: change.node });
    }
    const expected = { id: "v1", store_id: "store-1", state: "planned", notes: "first" };
    expect(await getRow("visit", "v1")).toStrictEqual(expected);
  });

  it("writes nothing when the edit fails inside the transaction (no session)", async () => {
    await phone.db.meta.delete("session");
    await expect(newVisit("v1")).rejects.toThrow("not logged in");
    expect(await phone.db.rows.count()).toBe(0);
    expect(await phone.db.outbox.count()).toBe(0);
    expect(await getMeta("clock")).toBeUndefined();
  });

  it("rolls the row back when writing the outbox fails after the row was written", async () => {
    await newVisit("v1", { notes: "kept" });
    const before = await phone.db.rows.get(["visit", "v1"]);
    const clockBefore = await getMeta("clock");
    const spy = vi.spyOn(phone.db.outbox, "bulkAdd").mockImplementation(() => {
      throw new Error("disk full");
    });
    await expect(edit("visit", "v1", { notes: "lost" })).rejects.toThrow("disk full");
    await expect(newVisit("v2")).rejects.toThrow("disk full");
    expect(spy).toHaveBeenCalledTimes(2);
    spy.mockRestore();
    // Neither the row nor the clock moved: the whole transaction was aborted.
    expect(await phone.db.rows.get(["visit", "v1"])).toStrictEqual(before);
    expect(await phone.db.rows.get(["visit", "v2"])).toBeUndefined();
    expect(await phone.db.outbox.count()).toBe(4);
    expect(await getMeta("clock")).toStrictEqual(clockBefore);
  });

  it("stamps increasing HLC stamps with the client id as node", async () => {
    await newVisit("v1");
    for (let i = 0; i < 20; i++) {
      await edit("visit", "v1", { notes: `note ${i}`, outcome: i % 3 === 0 ? "sale" : null });
    }
    await edit("visit", "v2", { notes: "orphan field" });
    const outbox = await phone.outbox();
    expect(outbox.length).toBeGreaterThan(25);
    for (const change of outbox) expect(change.node).toBe(CLIENT);
    for (let i = 1; i < outbox.length; i++) {
      expect(outbox[i]!.hlc > outbox[i - 1]!.hlc, `${outbox[i - 1]!.hlc} then ${outbox[i]!.hlc}`).toBe(true);
    }
    // The clock state persisted in meta is the last stamp given out.
    const last = parseStamp(outbox[outbox.length - 1]!.hlc);
    expect(await getMeta("clock")).toStrictEqual(last);
    // Physical time: the stamps are near now.
    expect(Math.abs(last.wall - realNow())).toBeLessThan(60_000);
  });

  it("stamps after every pulled stamp, even one ahead of the phone's clock", async () => {
    await newVisit("v1");
    const ahead = realNow() + 60_000;
    await applyPulled([remoteChange("visit", "v1", "outcome", "sale", OTHER, ahead, 7)], []);
    await edit("visit", "v1", { notes: "after" });
    const outbox = await phone.outbox();
    const last = outbox[outbox.length - 1]!;
    expect(last.hlc > remoteChange("visit", "v1", "outcome", "sale", OTHER, ahead, 7).hlc).toBe(true);
    expect(await getRow("visit", "v1")).toMatchObject({ notes: "after", outcome: "sale" });
  });

  it("writes no change for a value equal to the current one", async () => {
    await newVisit("v1", { notes: "same", tags: { b: 1, a: [1, 2] } });
    const count = await phone.db.outbox.count();
    expect(await edit("visit", "v1", { notes: "same", state: "planned" })).toBe(0);
    // Equal as JSON: key order and 1 versus 1.0 do not matter.
    expect(await edit("visit", "v1", { tags: { a: [1, 2.0], b: 1 } })).toBe(0);
    expect(await phone.db.outbox.count()).toBe(count);
    // Only the field that changes is written.
    expect(await edit("visit", "v1", { notes: "same", state: "checked_in" })).toBe(1);
    const outbox = await phone.outbox();
    expect(outbox[outbox.length - 1]).toMatchObject({ column: "state", value: "checked_in" });
  });

  it("starts a new row with _cl 1 followed by all its fields", async () => {
    // Fields already on the phone (arrived before the row's _cl) are still written with the new row.
    await applyPulled([remoteChange("visit", "v1", "notes", "early", OTHER, realNow() - 1000)], []);
    expect(await getRow("visit", "v1")).toBeUndefined();
    expect(await newVisit("v1", { notes: "early", planned_seq: null })).toBe(5);
    const outbox = await phone.outbox();
    expect(outbox[0]).toMatchObject({ table: "visit", row: "v1", column: "_cl", value: 1, node: CLIENT });
    expect(outbox.map((c) => c.column)).toStrictEqual(["_cl", "store_id", "state", "notes", "planned_seq"]);
    expect(await getRow("visit", "v1")).toStrictEqual({
      id: "v1",
      store_id: "store-1",
      state: "planned",
      notes: "early",
      planned_seq: null,
    });
    expect(await liveRows("visit")).toHaveLength(1);
  });

  it("deletes with the next even _cl and restores with the next odd one", async () => {
    await newVisit("v1", { notes: "n" });
    expect(await edit("visit", "v1", {}, { remove: true })).toBe(1);
    let outbox = await phone.outbox();
    expect(outbox[outbox.length - 1]).toMatchObject({ column: "_cl", value: 2, node: CLIENT });
    expect(await getRow("visit", "v1")).toBeUndefined();
    expect(await liveRows("visit")).toStrictEqual([]);
    expect((await phone.db.rows.get(["visit", "v1"]))?.cl).toBe(2);
    // Deleting a deleted row writes nothing.
    expect(await edit("visit", "v1", {}, { remove: true })).toBe(0);
    // A restore is the next odd number, and carries every field it is given.
    expect(await newVisit("v1", { notes: "n" })).toBe(4);
    outbox = await phone.outbox();
    expect(outbox.slice(-4).map((c) => [c.column, c.value])).toStrictEqual([
      ["_cl", 3],
      ["store_id", "store-1"],
      ["state", "planned"],
      ["notes", "n"],
    ]);
    expect(await edit("visit", "v1", {}, { remove: true })).toBe(1);
    outbox = await phone.outbox();
    expect(outbox[outbox.length - 1]).toMatchObject({ column: "_cl", value: 4 });
  });
});

// ---- sync: pushing the outbox -----------------------------------------------------------------------------------

describe("sync", () => {
  it("pushes the outbox in order, empties it when answered; the server holds each change once", async () => {
    await newVisit("v1", { notes: "a" });
    await newVisit("v2");
    await edit("visit", "v1", { notes: "b" });
    await edit("visit", "v2", {}, { remove: true });
    const outbox = await phone.outbox();
    expect(outbox).toHaveLength(10);

    const outcome = await syncOnce();
    expect(outcome).toStrictEqual({ pushed: 10, rejected: 0, pulled: 0, refetched: false });
    expect(net.sent).toHaveLength(1);
    expect(net.sent[0]!.cursor).toBeNull();
    expect(net.sent[0]!.client_id).toBe(CLIENT);
    expect(net.sent[0]!.changes).toStrictEqual(outbox);
    expect(await phone.db.outbox.count()).toBe(0);

    // The server holds the winning version of each field, each stored once.
    const held = serverChanges();
    const winners = new Map<string, Change>();
    for (const change of outbox) winners.set(key(change), change);
    expect(held.sort((a, b) => (key(a) < key(b) ? -1 : 1))).toStrictEqual(
      [...winners.values()].sort((a, b) => (key(a) < key(b) ? -1 : 1)),
    );
    // Ten changes, two of them superseded inside the same push: nothing was stored twice.
    expect(net.server.store.lastSeq).toBe(10);
    expect(serverRow("visit", "v1")).toStrictEqual({ store_id: "store-1", state: "planned", notes: "b" });
    expect(serverRow("visit", "v2")).toBeUndefined();
    expect(await replicaChecksum()).toBe(net.server.store.checksum());
    expect(await getMeta("cursor")).toBe("v1:10");

    // Syncing again sends nothing and changes nothing.
    const again = await syncOnce();
    expect(again).toStrictEqual({ pushed: 0, rejected: 0, pulled: 0, refetched: false });
    expect(net.sent).toHaveLength(2);
    expect(net.sent[1]!.changes).toStrictEqual([]);
    expect(net.sent[1]!.cursor).toBe("v1:10");
    expect(net.server.store.lastSeq).toBe(10);
  });

  it("keeps the outbox on a network failure and later sends the same changes", async () => {
    await newVisit("v1", { notes: "offline" });
    const outbox = await phone.outbox();
    net.mode = "offline";
    await expect(syncOnce()).rejects.toBeInstanceOf(NetworkError);
    expect(await phone.outbox()).toStrictEqual(outbox);
    // Through requestSync the status says offline, and the outbox is still there.
    expect(await requestSync()).toBeNull();
    expect((await syncStatus()).state).toBe("offline");
    expect(await phone.outbox()).toStrictEqual(outbox);
    expect(net.server.store.lastSeq).toBe(0);

    net.mode = "online";
    const outcome = await requestSync();
    expect(outcome).toMatchObject({ pushed: 4, rejected: 0 });
    expect((await syncStatus()).state).toBe("idle");
    expect(net.sent.map((s) => s.changes)).toStrictEqual([outbox, outbox, outbox]);
    expect(await phone.db.outbox.count()).toBe(0);
    expect(serverRow("visit", "v1")).toMatchObject({ notes: "offline" });
    expect(await replicaChecksum()).toBe(net.server.store.checksum());
  });

  it("resends after a lost answer; the server acknowledges what it has and stores it once", async () => {
    await newVisit("v1", { notes: "twice?" });
    await syncOnce();
    const seqAfterFirst = net.server.store.lastSeq;
    await edit("visit", "v1", { notes: "once", outcome: "sale" });
    await newVisit("v2");
    const outbox = await phone.outbox();
    const cursor = await getMeta("cursor");

    // The server applies the push, then the connection drops before the answer arrives.
    net.mode = "lose-answer";
    await expect(syncOnce()).rejects.toBeInstanceOf(NetworkError);
    expect(net.server.store.lastSeq).toBe(seqAfterFirst + outbox.length);
    expect(await phone.outbox()).toStrictEqual(outbox);
    expect(await getMeta("cursor")).toBe(cursor);

    net.mode = "online";
    const outcome = await syncOnce();
    expect(outcome).toMatchObject({ pushed: outbox.length, rejected: 0, refetched: false });
    const last = net.sent[net.sent.length - 1]!;
    expect(last.changes).toStrictEqual(outbox);
    expect(last.cursor).toBe(cursor);
    const answer = net.answers[net.answers.length - 1]!.body as { results: unknown[]; changes: unknown[] };
    expect(answer.results).toStrictEqual(outbox.map(() => ({ status: "accepted" })));
    expect(answer.changes).toStrictEqual([]); // its own changes are not sent back
    // Nothing was stored again: exactly once.
    expect(net.server.store.lastSeq).toBe(seqAfterFirst + outbox.length);
    expect(serverRow("visit", "v1")).toMatchObject({ notes: "once", outcome: "sale" });
    expect(await phone.db.outbox.count()).toBe(0);
    expect(await replicaChecksum()).toBe(net.server.store.checksum());
  });

  it("keeps edits made while a request is on the way, and sends them next", async () => {
    await newVisit("v1", { notes: "first" });
    const first = await phone.outbox();
    net.beforeAnswer = async (request) => {
      if (request === 0) await edit("visit", "v1", { notes: "typed meanwhile" });
    };
    const outcome = await syncOnce();
    expect(outcome.pushed).toBe(first.length + 1);
    expect(net.sent[0]!.changes).toStrictEqual(first);
    expect(net.sent[1]!.changes).toHaveLength(1);
    expect(net.sent[1]!.changes[0]).toMatchObject({ column: "notes", value: "typed meanwhile" });
    expect(await phone.db.outbox.count()).toBe(0);
    expect(serverRow("visit", "v1")).toMatchObject({ notes: "typed meanwhile" });
    expect(await replicaChecksum()).toBe(net.server.store.checksum());
  });

  it("stores a rejected change with its code, message and field; the changes after it are accepted", async () => {
    net.server.policy = (change) =>
      change.column === "notes" && change.value === "forbidden"
        ? { code: "sync.invalid_value", message: "notes may not say that", field: "notes" }
        : null;
    await newVisit("v1", { notes: "fine" });
    await syncOnce();
    await edit("visit", "v1", { notes: "forbidden" });
    await edit("visit", "v1", { outcome: "sale" });
    await newVisit("v2", { notes: "after" });
    const outbox = await phone.outbox();
    const refused = outbox[0]!;
    expect(refused).toMatchObject({ column: "notes", value: "forbidden" });

    const outcome = await syncOnce();
    expect(outcome.rejected).toBe(1);
    expect(await phone.db.outbox.count()).toBe(0);
    const rejected = await phone.db.rejected.toArray();
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({
      change: refused,
      code: "sync.invalid_value",
      message: "notes may not say that",
      field: "notes",
    });
    expect(typeof rejected[0]!.at).toBe("number");
    // Everything behind the refused change was taken.
    const taken = { store_id: "store-1", state: "planned", notes: "fine", outcome: "sale" };
    expect(serverRow("visit", "v1")).toStrictEqual(taken);
    expect(serverRow("visit", "v2")).toMatchObject({ notes: "after" });
    // The phone ends with the server's view: the refused value is not kept locally.
    expect(await getRow("visit", "v1")).toMatchObject({ notes: "fine", outcome: "sale" });
    expect(await replicaChecksum()).toBe(net.server.store.checksum());
  });

  it("corrects its clock on sync.clock_skew, stamps the edit again, and it is accepted", async () => {
    await newVisit("v1", { notes: "before" });
    await syncOnce();
    // The phone's clock jumps an hour ahead; the server allows five minutes.
    const hour = 60 * 60 * 1000;
    setPhoneClockAhead(hour);
    await edit("visit", "v1", { notes: "from the future" });
    const [skewed] = await phone.outbox();
    expect(parseStamp(skewed!.hlc).wall).toBeGreaterThan(realNow() + hour - 60_000);

    expect(await syncOnce()).toMatchObject({ pushed: 1, rejected: 0 });
    const first = net.answers.find((a) => (a.body.results as { code?: string }[])?.[0]?.code === "sync.clock_skew");
    expect(first, "the server refused the skewed stamp").toBeDefined();
    // The offset learnt from server_time is about minus one hour.
    expect(Math.abs((await clockOffset()) + hour)).toBeLessThan(60_000);
    expect(await phone.db.outbox.count()).toBe(0);
    expect(await phone.db.rejected.count()).toBe(0);
    // The server has the value, stamped near its own time.
    expect(serverRow("visit", "v1")).toMatchObject({ notes: "from the future" });
    const stored = serverChanges().find((c) => c.row === "v1" && c.column === "notes")!;
    expect(stored.node).toBe(CLIENT);
    expect(Math.abs(parseStamp(stored.hlc).wall - realNow())).toBeLessThan(60_000);
    expect(await getRow("visit", "v1")).toMatchObject({ notes: "from the future" });
    expect(await replicaChecksum()).toBe(net.server.store.checksum());
    // It was resent once, not in a loop.
    expect(net.sent.length).toBeLessThanOrEqual(4);

    // Later edits are stamped with the corrected clock and accepted at once.
    await edit("visit", "v1", { notes: "later" });
    const [later] = await phone.outbox();
    expect(Math.abs(parseStamp(later!.hlc).wall - realNow())).toBeLessThan(60_000);
    expect(later!.hlc > stored.hlc).toBe(true);
    const outcome = await syncOnce();
    expect(outcome).toMatchObject({ pushed: 1, rejected: 0 });
    expect(serverRow("visit", "v1")).toMatchObject({ notes: "later" });
  });

  it("stamps a refused change again after every version it had seen, so it still wins", async () => {
    await newVisit("v1", { notes: "before" });
    // Another phone, a minute ahead (within the server's five), wrote notes; this phone pulls it.
    const otherStamp = remoteChange("visit", "v1", "notes", "other", OTHER, realNow() + 60_000, 3);
    net.server.write([otherStamp]);
    await syncOnce();
    expect(await getRow("visit", "v1")).toMatchObject({ notes: "other" });
    // Then this phone's clock jumps a day ahead and the user edits notes: a later edit than the other's.
    setPhoneClockAhead(24 * 60 * 60 * 1000);
    await edit("visit", "v1", { notes: "mine, made later" });
    await syncOnce();
    const stored = serverChanges().find((c) => c.row === "v1" && c.column === "notes")!;
    expect(stored).toMatchObject({ value: "mine, made later", node: CLIENT });
    expect(stored.hlc > otherStamp.hlc).toBe(true);
    expect(await getRow("visit", "v1")).toMatchObject({ notes: "mine, made later" });
    expect(await replicaChecksum()).toBe(net.server.store.checksum());
  });

  it("forgets a learnt clock offset once the phone's clock is right again", async () => {
    await newVisit("v1", { notes: "before" });
    await syncOnce();
    const hour = 60 * 60 * 1000;
    setPhoneClockAhead(hour);
    await edit("visit", "v1", { notes: "skewed" });
    await syncOnce();
    expect(Math.abs((await clockOffset()) + hour)).toBeLessThan(60_000);
    // The phone's clock is set right, and it syncs.
    setPhoneClockAhead(0);
    await syncOnce();
    // Ten minutes later (for the phone and the server): someone edits notes, then this phone does, offline.
    const tenMinutes = 10 * 60 * 1000;
    setPhoneClockAhead(tenMinutes);
    net.serverAheadMs = tenMinutes;
    net.server.write([remoteChange("visit", "v1", "notes", "other, earlier", OTHER, realNow() + tenMinutes - 60_000)]);
    await edit("visit", "v1", { notes: "mine, later" });
    const [mine] = await phone.outbox();
    expect(Math.abs(parseStamp(mine!.hlc).wall - (realNow() + tenMinutes))).toBeLessThan(60_000);
    await syncOnce();
    expect(serverRow("visit", "v1")).toMatchObject({ notes: "mine, later" });
    expect(await getRow("visit", "v1")).toMatchObject({ notes: "mine, later" });
  });

  it("keeps a refused change in the outbox when stamping it again fails", async () => {
    await newVisit("v1", { notes: "before" });
    await syncOnce();
    setPhoneClockAhead(60 * 60 * 1000);
    await edit("visit", "v1", { notes: "skewed" });
    const outbox = await phone.outbox();
    const spy = vi.spyOn(phone.db.outbox, "add").mockImplementation(() => {
      throw new Error("quota exceeded");
    });
    await expect(syncOnce()).rejects.toThrow("quota exceeded");
    spy.mockRestore();
    // The refusal and the new stamp are one transaction: the change is still there as it was.
    expect(await phone.outbox()).toStrictEqual(outbox);
    await syncOnce();
    expect(serverRow("visit", "v1")).toMatchObject({ notes: "skewed" });
    expect(await phone.db.outbox.count()).toBe(0);
  });
});

// ---- sync: pulling ----------------------------------------------------------------------------------------------

describe("pull", () => {
  it("merges pulled changes field by field with local edits, the last writer winning", async () => {
    await newVisit("v1", { notes: "start", outcome: null });
    await syncOnce();
    const t0 = realNow();
    // Another writer, on the server: notes before the phone's edit, outcome and state after it.
    net.server.write([
      remoteChange("visit", "v1", "notes", "older notes", OTHER, t0 - 5_000),
      remoteChange("visit", "v1", "outcome", "newer outcome", OTHER, t0 + 5_000),
      remoteChange("visit", "v1", "state", "checked_in", OTHER, t0 + 5_000),
    ]);
    // The phone, offline, edits notes (now) and outcome (now, which is older than the server's).
    await edit("visit", "v1", { notes: "phone notes", outcome: "phone outcome" });
    // Before the sync, the phone shows its own values.
    expect(await getRow("visit", "v1")).toMatchObject({ notes: "phone notes", outcome: "phone outcome" });

    await syncOnce();
    const expected = { store_id: "store-1", state: "checked_in", notes: "phone notes", outcome: "newer outcome" };
    expect(await getRow("visit", "v1")).toStrictEqual({ id: "v1", ...expected });
    expect(serverRow("visit", "v1")).toStrictEqual(expected);
    expect(await replicaChecksum()).toBe(net.server.store.checksum());

    // The phone's next edit of outcome is stamped after the server's (receive() moved its clock) and wins.
    await edit("visit", "v1", { outcome: "phone again" });
    await syncOnce();
    expect(serverRow("visit", "v1")).toMatchObject({ outcome: "phone again" });
    expect(await getRow("visit", "v1")).toMatchObject({ outcome: "phone again" });
  });

  it("merges a pulled delete and a concurrent edit: the row stays deleted, and a restore shows the edit", async () => {
    await newVisit("v1", { notes: "start" });
    await syncOnce();
    net.server.write([remoteChange("visit", "v1", "_cl", 2, OTHER, realNow() - 1_000)]);
    await edit("visit", "v1", { notes: "edited meanwhile" });
    await syncOnce();
    expect(await getRow("visit", "v1")).toBeUndefined();
    expect(serverRow("visit", "v1")).toBeUndefined();
    expect(await replicaChecksum()).toBe(net.server.store.checksum());
    await newVisit("v1", { notes: "edited meanwhile" });
    await syncOnce();
    expect((await phone.db.rows.get(["visit", "v1"]))?.cl).toBe(3);
    expect(serverRow("visit", "v1")).toMatchObject({ notes: "edited meanwhile" });
  });

  it("keeps tables and columns the app does not know (3.1, step 3)", async () => {
    await newVisit("v1");
    await syncOnce();
    const t0 = realNow();
    net.server.write([
      remoteChange("visit", "v1", "mood_score", { level: 3, tags: ["calm"] }, OTHER, t0),
      remoteChange("future_table", "f1", "_cl", 1, OTHER, t0),
      remoteChange("future_table", "f1", "shiny_field", 42, OTHER, t0),
      remoteChange("future_table", "f2", "orphan", "no _cl yet", OTHER, t0),
    ]);
    await syncOnce();
    expect(await getRow("visit", "v1")).toMatchObject({ mood_score: { level: 3, tags: ["calm"] } });
    expect(await liveRows("future_table")).toStrictEqual([{ id: "f1", shiny_field: 42 }]);
    // A row without _cl is kept too (not live yet).
    expect((await phone.db.rows.get(["future_table", "f2"]))?.f.orphan?.v).toBe("no _cl yet");
    expect(await replicaChecksum()).toBe(net.server.store.checksum());

    // A local edit of a known field keeps the unknown ones, and they merge like any other field.
    await edit("visit", "v1", { notes: "local" });
    net.server.write([remoteChange("future_table", "f1", "shiny_field", 43, OTHER, realNow() + 1_000)]);
    await syncOnce();
    expect(await getRow("visit", "v1")).toMatchObject({ notes: "local", mood_score: { level: 3, tags: ["calm"] } });
    expect(await liveRows("future_table")).toStrictEqual([{ id: "f1", shiny_field: 43 }]);
    // A stale pulled version of an unknown field does not replace a newer one.
    await applyPulled([remoteChange("future_table", "f1", "shiny_field", 41, OTHER, t0 - 1_000)], []);
    expect(await liveRows("future_table")).toStrictEqual([{ id: "f1", shiny_field: 43 }]);
    expect(await replicaChecksum()).toBe(net.server.store.checksum());
  });

  it("applies removed rows: dropped locally with their fields, nothing sent back", async () => {
    await newVisit("v1");
    await newVisit("v2");
    await syncOnce();
    await applyPulled([], [{ table: "visit", row: "v2" }]);
    expect(await phone.db.rows.get(["visit", "v2"])).toBeUndefined();
    expect(await phone.db.outbox.count()).toBe(0);
    expect(await liveRows("visit")).toHaveLength(1);
  });

  it("pulls page after page until has_more is false, ending with the full state", async () => {
    net = new Network({ limits: { pageSize: 3 } });
    net.install();
    await newVisit("mine", { notes: "mine" });
    const t0 = realNow() - 60_000;
    const theirs: Change[] = [];
    for (let i = 0; i < 7; i++) {
      theirs.push(remoteChange("store", `s${i}`, "_cl", 1, OTHER, t0 + i, 0));
      theirs.push(remoteChange("store", `s${i}`, "name", `Store ${i}`, OTHER, t0 + i, 1));
    }
    net.server.write(theirs);

    const outcome = await syncOnce();
    expect(outcome.pulled).toBeGreaterThanOrEqual(7);
    // A full download (cursor null) pages with `:full` cursors, three changes a page.
    const answers = net.answers.map((a) => a.body as { changes: unknown[]; has_more: boolean; cursor: string });
    expect(answers.length).toBeGreaterThanOrEqual(Math.ceil((theirs.length + 4) / 3));
    for (const answer of answers.slice(0, -1)) {
      expect(answer.has_more).toBe(true);
      expect(answer.changes.length).toBe(3);
      expect(answer.cursor).toMatch(/:full$/);
    }
    expect(answers[answers.length - 1]!.has_more).toBe(false);
    expect(net.sent[0]!.changes).toHaveLength(4);
    for (const request of net.sent.slice(1)) expect(request.changes).toStrictEqual([]);
    expect((await liveRows("store")).length).toBe(7);
    expect(await getRow("visit", "mine")).toMatchObject({ notes: "mine" });
    expect(await replicaChecksum()).toBe(net.server.store.checksum());
    expect(await getMeta("cursor")).toBe(`v1:${net.server.store.lastSeq}`);

    // An incremental pull pages too.
    const more: Change[] = [];
    for (let i = 0; i < 8; i++) {
      more.push(remoteChange("store", `s${i % 7}`, "name", `Renamed ${i}`, OTHER, realNow() + i));
    }
    net.server.write(more);
    const sentBefore = net.sent.length;
    await syncOnce();
    expect(net.sent.length - sentBefore).toBe(3);
    expect(await getRow("store", "s0")).toMatchObject({ name: "Renamed 7" });
    expect(await replicaChecksum()).toBe(net.server.store.checksum());
  });

  it("resumes a full download cut off between pages", async () => {
    net = new Network({ limits: { pageSize: 2 } });
    net.install();
    await newVisit("mine", { notes: "mine" });
    const theirs: Change[] = [];
    for (let i = 0; i < 5; i++) theirs.push(remoteChange("store", `s${i}`, "_cl", 1, OTHER, realNow() - 10_000 + i));
    net.server.write(theirs);
    net.beforeAnswer = async (request) => {
      if (request === 2) net.mode = "offline";
    };
    await expect(syncOnce()).rejects.toBeInstanceOf(NetworkError);
    // Three pages arrived, the fourth request failed; the cursor says the full download is still paging.
    expect(await getMeta("cursor")).toMatch(/^v1:\d+:full$/);
    net.beforeAnswer = null;
    net.mode = "online";
    const outcome = await syncOnce();
    expect(outcome.refetched).toBe(false);
    expect(await liveRows("store")).toHaveLength(5);
    expect(await getRow("visit", "mine")).toMatchObject({ notes: "mine" });
    expect(await replicaChecksum()).toBe(net.server.store.checksum());
  });
});

// ---- integrity: checksum mismatch and must-refetch ----------------------------------------------------------

describe("refetch", () => {
  it("downloads again on a checksum mismatch, ending equal to the server, the outbox sent", async () => {
    await newVisit("v1", { notes: "one" });
    await newVisit("v2", { notes: "two" });
    net.server.write([
      remoteChange("store", "s1", "_cl", 1, OTHER),
      remoteChange("store", "s1", "name", "Shop", OTHER),
    ]);
    await syncOnce();
    expect(await replicaChecksum()).toBe(net.server.store.checksum());

    // Corrupt the replica: a row vanishes; then an offline edit waits in the outbox.
    await phone.db.rows.delete(["visit", "v2"]);
    await phone.db.rows.delete(["store", "s1"]);
    expect(await replicaChecksum()).not.toBe(net.server.store.checksum());
    await edit("visit", "v1", { notes: "edited" });
    const outbox = await phone.outbox();
    const sentBefore = net.sent.length;

    const outcome = await syncOnce();
    expect(outcome.refetched).toBe(true);
    const requests = net.sent.slice(sentBefore);
    expect(requests[0]!.changes).toStrictEqual(outbox);
    expect(requests.some((r) => r.cursor === null)).toBe(true);
    expect(await replicaChecksum()).toBe(net.server.store.checksum());
    expect(await getRow("visit", "v2")).toMatchObject({ notes: "two" });
    expect(await getRow("store", "s1")).toMatchObject({ name: "Shop" });
    expect(await getRow("visit", "v1")).toMatchObject({ notes: "edited" });
    expect(serverRow("visit", "v1")).toMatchObject({ notes: "edited" });
    expect(await phone.db.outbox.count()).toBe(0);
  });

  it("keeps the old rows on screen while a full download runs, and through one cut off half-way", async () => {
    net = new Network({ limits: { pageSize: 2 } });
    net.install();
    for (let i = 0; i < 5; i++) await newVisit(`v${i}`, { notes: `n${i}` });
    await syncOnce();
    // A corrupted replica: a row vanished here, so the checksum differs and a full download starts.
    await phone.db.rows.delete(["visit", "v4"]);
    net.beforeAnswer = async (request) => {
      if (request === net.sent.length - 1 && net.sent[request]!.cursor === null) net.mode = "offline";
    };
    await expect(syncOnce()).rejects.toBeInstanceOf(NetworkError);
    // The download was cut off: every row the phone had is still there.
    for (let i = 0; i < 4; i++) expect(await getRow("visit", `v${i}`)).toMatchObject({ notes: `n${i}` });
    net.beforeAnswer = null;
    net.mode = "online";
    await setMetaCursorNull();
    await syncOnce();
    expect(await liveRows("visit")).toHaveLength(5);
    expect(await replicaChecksum()).toBe(net.server.store.checksum());
  });

  it("a full download drops the rows it did not deliver, but not rows still waiting in the outbox", async () => {
    await newVisit("v1", { notes: "on the server" });
    await syncOnce();
    // A row the server never had (say, from a bug), and an offline edit still to send.
    await phone.db.rows.put({ t: "visit", id: "ghost", cl: 1, f: { _cl: { v: 1, h: "000000000001-0000", n: CLIENT } } });
    net.mode = "offline";
    await newVisit("v2", { notes: "offline" });
    net.mode = "online";
    const outcome = await syncOnce();
    expect(outcome.refetched).toBe(true);
    expect(await phone.db.rows.get(["visit", "ghost"])).toBeUndefined();
    expect(await getRow("visit", "v2")).toMatchObject({ notes: "offline" });
    expect(await replicaChecksum()).toBe(net.server.store.checksum());
  });

  it("a refused edit gives way to the server's value", async () => {
    net.server.policy = (change) =>
      change.column === "notes" && change.value === "forbidden"
        ? { code: "sync.invalid_value", message: "no", field: "notes" }
        : null;
    await newVisit("v1", { notes: "fine" });
    await syncOnce();
    await edit("visit", "v1", { notes: "forbidden" });
    await syncOnce();
    expect(await getRow("visit", "v1")).toMatchObject({ notes: "fine" });
    expect(await replicaChecksum()).toBe(net.server.store.checksum());
  });

  it("never splits one edit between two pushes (a new row needs its fields in the same push)", async () => {
    // 4,998 single-field edits, then a new visit (4 changes): the chunk of 5,000 would end inside the visit.
    await newVisit("base", { notes: "" });
    await syncOnce();
    for (let i = 0; i < 4998; i++) await edit("visit", "base", { notes: `n${i}` });
    await newVisit("v-new", { notes: "new" });
    await syncOnce();
    const creating = net.sent.filter((r) => r.changes.some((c) => c.row === "v-new"));
    expect(creating).toHaveLength(1);
    expect(creating[0]!.changes.filter((c) => c.row === "v-new")).toHaveLength(4);
    expect(serverRow("visit", "v-new")).toMatchObject({ notes: "new", state: "planned" });
    expect(await phone.db.rejected.count()).toBe(0);
  }, 60_000);

  it("on sync.must_refetch drops the replica, keeps and resends the outbox, and converges", async () => {
    await newVisit("v1", { notes: "keep" });
    await newVisit("v2", { notes: "to be deleted elsewhere" });
    await syncOnce();
    const cursor = await getMeta<string>("cursor");
    // Elsewhere: v2 is deleted, then its tombstone purged past this phone's cursor.
    net.server.write([remoteChange("visit", "v2", "_cl", 2, OTHER, realNow() + 1)]);
    expect(net.server.store.purgeTombstones(net.server.store.lastSeq)).toBe(1);
    // Offline meanwhile: an edit and a new row.
    await edit("visit", "v1", { notes: "edited offline" });
    await newVisit("v3", { notes: "new offline" });
    const outbox = await phone.outbox();
    const sentBefore = net.sent.length;

    const outcome = await syncOnce();
    expect(outcome.refetched).toBe(true);
    const requests = net.sent.slice(sentBefore);
    expect(requests[0]).toMatchObject({ cursor, changes: outbox });
    expect(net.answers[sentBefore]!.status).toBe(409);
    expect((net.answers[sentBefore]!.body as { code: string }).code).toBe("sync.must_refetch");
    // The outbox went again with the full download.
    expect(requests[1]).toMatchObject({ cursor: null, changes: outbox });
    expect(await phone.db.outbox.count()).toBe(0);
    expect(await getRow("visit", "v2")).toBeUndefined();
    expect(await phone.db.rows.get(["visit", "v2"])).toBeUndefined();
    expect(await getRow("visit", "v1")).toMatchObject({ notes: "edited offline", state: "planned" });
    expect(serverRow("visit", "v1")).toMatchObject({ notes: "edited offline" });
    expect(serverRow("visit", "v3")).toMatchObject({ notes: "new offline" });
    expect(await replicaChecksum()).toBe(net.server.store.checksum());
  });
});

// ---- whole-request errors --------------------------------------------------------------------------------------

describe("errors", () => {
  it("a 401 answer sets the status to login and keeps the outbox", async () => {
    await newVisit("v1");
    const outbox = await phone.outbox();
    net.refuse = { status: 401, code: "auth.expired" };
    await expect(syncOnce()).rejects.toSatisfy((err) => err instanceof ApiError && err.status === 401);
    expect(await requestSync()).toBeNull();
    const status = await syncStatus();
    expect(status.state).toBe("login");
    expect(status.error).toBe("refused: auth.expired");
    expect(await phone.outbox()).toStrictEqual(outbox);
    expect(net.server.store.lastSeq).toBe(0);

    // Logged in again: the same changes go.
    net.refuse = null;
    expect(await requestSync()).toMatchObject({ pushed: outbox.length });
    expect((await syncStatus()).state).toBe("idle");
    expect(serverRow("visit", "v1")).toBeDefined();
  });

  it("another refusal of the whole request is an error, the outbox kept", async () => {
    await newVisit("v1");
    net.refuse = { status: 400, code: "sync.unknown_schema" };
    expect(await requestSync()).toBeNull();
    expect((await syncStatus()).state).toBe("error");
    expect(await phone.db.outbox.count()).toBe(4);
  });
});

async function setMetaCursorNull(): Promise<void> {
  await phone.db.meta.put({ k: "cursor", v: null });
}
