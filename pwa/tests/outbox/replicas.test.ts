// Two phones (two databases, two client ids) edit one row offline, in the same field and in different fields,
// then sync in either order: both end with the server's checksum and the same values (docs/sync-protocol.md 1,
// "Convergence").
import "fake-indexeddb/auto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { edit, getRow, replicaChecksum } from "../../src/db/replica";
import { syncOnce } from "../../src/sync/client";
import { Device, dispose, Network, setPhoneClockAhead } from "./harness";

let a: Device;
let b: Device;
let net: Network;

beforeEach(async () => {
  a = await new Device("dev-a").login();
  b = await new Device("dev-b").login();
  net = new Network();
  net.install();
});

afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  await dispose(a, b);
});

/** Sync one phone (switching the module's database to it); returns its checksum afterwards. */
async function sync(device: Device): Promise<number> {
  device.use();
  await syncOnce();
  return replicaChecksum();
}

async function state(device: Device) {
  device.use();
  return { row: await getRow("visit", "v1"), checksum: await replicaChecksum(), records: await device.records() };
}

async function offlineEdits(): Promise<void> {
  // Phone A first, phone B a second later (its clock a second ahead): B's notes are the later write.
  a.use();
  await edit("visit", "v1", { notes: "from A", outcome: "sale" });
  setPhoneClockAhead(1_000);
  b.use();
  await edit("visit", "v1", { notes: "from B", check_out_at: "2025-01-01T10:00:00Z" });
  await edit("visit", "v2", { notes: "B's own row" }, { create: true });
  vi.restoreAllMocks();
}

describe.each([
  ["A then B", ["a", "b", "a"]],
  ["B then A", ["b", "a", "b"]],
])("two replicas, synced %s", (_, order) => {
  it("converge to the server's state", async () => {
    // Phone A creates the visit; both phones have it.
    a.use();
    await edit("visit", "v1", { store_id: "store-1", state: "checked_in", notes: "start" }, { create: true });
    await sync(a);
    await sync(b);
    expect((await state(b)).row).toMatchObject({ notes: "start" });

    await offlineEdits();
    const devices = { a, b };
    for (const name of order) await sync(devices[name as "a" | "b"]);

    const serverChecksum = net.server.store.checksum();
    const [sa, sb] = [await state(a), await state(b)];
    expect(sa.checksum).toBe(serverChecksum);
    expect(sb.checksum).toBe(serverChecksum);
    const expected = {
      id: "v1",
      store_id: "store-1",
      state: "checked_in",
      notes: "from B",
      outcome: "sale",
      check_out_at: "2025-01-01T10:00:00Z",
    };
    expect(sa.row).toStrictEqual(expected);
    expect(sb.row).toStrictEqual(expected);
    // Not only the values: every field's version is the same on both phones.
    expect(sa.records).toStrictEqual(sb.records);
    const { id: _, ...v1 } = expected;
    expect(net.server.store.replica.liveRows("visit")).toStrictEqual({ v1, v2: { notes: "B's own row" } });
    for (const device of [a, b]) {
      device.use();
      expect(await device.db.outbox.count()).toBe(0);
    }
  });
});
