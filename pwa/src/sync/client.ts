// The sync client: sends the outbox and pulls what changed (docs/sync-protocol.md 3.1). It runs on start, when
// the phone comes online, on a timer and shortly after edits; never blocks the UI (all work is async, edits keep
// going to the outbox meanwhile); and only one tab of the app syncs at a time (a Web Lock).
import { ApiError, NetworkError, request, type Session } from "../api";
import { db, getMeta, setMeta } from "../db/db";
import { applyPulled, confirmStamp, forgetRejected, onEdit, replicaChecksum, restamp, rewindClock, sweep } from "../db/replica";
import type { Change } from "./changes";
import { encodeRequestJson, type SyncResponse } from "./messages";

export const PROTOCOL = 1;
export const SCHEMA_VERSION = 1;
const MAX_PUSH = 5000;
const PAGE = 5000; // the server caps it at its page size (5,000 by default)
const TIMER_MS = 60_000;
const AFTER_EDIT_MS = 1500;
const MAX_ROUNDS = 500;

export interface SyncStatus {
  state: "idle" | "syncing" | "offline" | "error" | "login";
  lastSuccessAt: number | null;
  lastAttemptAt: number | null;
  error: string | null;
}

const IDLE: SyncStatus = { state: "idle", lastSuccessAt: null, lastAttemptAt: null, error: null };

export async function syncStatus(): Promise<SyncStatus> {
  return (await getMeta<SyncStatus>("syncStatus")) ?? IDLE;
}

async function setStatus(patch: Partial<SyncStatus>): Promise<void> {
  await setMeta("syncStatus", { ...(await syncStatus()), ...patch });
}

export interface SyncOutcome {
  pushed: number;
  rejected: number;
  pulled: number;
  refetched: boolean;
}

/** POST one sync request. The body is written byte for byte as the protocol pins it. */
function post(session: Session, body: string): Promise<SyncResponse> {
  return request<SyncResponse>("POST", "/sync", undefined, {
    token: session.token,
    raw: body,
    contentType: "application/json",
  });
}

/**
 * One full synchronisation: push the outbox in chunks (pulling a page with each), then pull until the server
 * has no more, then check the replica against the server's checksum and download again on a mismatch.
 */
export async function syncOnce(): Promise<SyncOutcome> {
  const session = await getMeta<Session>("session");
  if (!session) throw new Error("not logged in");
  const outcome: SyncOutcome = { pushed: 0, rejected: 0, pulled: 0, refetched: false };
  let refetches = 0;
  let rounds = 0;
  for (;;) {
    const entries = await chunk();
    const generation = (await getMeta<number>("fullDownload")) ?? null;
    const cursor = (await getMeta<string | null>("cursor")) ?? null;
    const changes: Change[] = entries.map((e) => e.change);
    const body = encodeRequestJson({
      protocol: PROTOCOL,
      schema_version: SCHEMA_VERSION,
      client_id: session.clientId,
      cursor,
      changes,
      limit: PAGE,
    });
    let answer: SyncResponse;
    try {
      answer = await post(session, body);
    } catch (err) {
      // The cursor is older than the server's tombstone horizon, or ahead of a restored server: start over.
      if (err instanceof ApiError && err.code === "sync.must_refetch" && refetches < 2) {
        refetches += 1;
        await startOver(outcome);
        continue;
      }
      throw err;
    }
    outcome.pushed += await settle(entries, answer);
    // Fix: a clock-skew refusal is stamped again and resent, not rejected (it was counted as both).
    outcome.rejected += answer.results.filter((r) => r.status === "rejected" && r.code !== "sync.clock_skew").length;
    outcome.pulled += await applyPulled(answer.changes, answer.removed, generation);
    await setMeta("cursor", answer.cursor);
    if (generation !== null && !answer.has_more) {
      await sweep(generation);
      await setMeta("fullDownload", null);
    }
    // Fix: the offset learnt from a sync.clock_skew refusal was kept for ever, so once the phone's clock was set
    // right again its edits were stamped that much late (losing to earlier edits by others). While an offset is
    // in use, every answer's server_time keeps it current (4: "correct its clock offset from server_time").
    if ((await getMeta<number>("clockOffsetMs")) !== undefined) {
      await setMeta("clockOffsetMs", answer.server_time - Date.now());
    }
    // More to pull, or edits made meanwhile (or beyond one chunk) still to send.
    if (answer.has_more || (await db.outbox.count()) > 0) {
      if (++rounds > MAX_ROUNDS) throw new Error("Sync did not finish; it will be tried again.");
      continue;
    }
    // Everything applied and nothing left to send: the replica must equal the server's view of our scope.
    if (answer.checksum !== null && (await replicaChecksum()) !== answer.checksum) {
      if (refetches >= 2) throw new Error("The local data still differs from the server after downloading again.");
      refetches += 1;
      await startOver(outcome);
      continue;
    }
    return outcome;
  }
}

/**
 * Download the whole scope again (cursor null), keeping the outbox: it is sent with the first request. The rows
 * stay until the download is complete (`sweep`), so the app keeps working if the network drops half-way.
 */
async function startOver(outcome: SyncOutcome): Promise<void> {
  outcome.refetched = true;
  await setMeta("fullDownload", Date.now());
  await setMeta("cursor", null);
}

/**
 * The next changes to send: at most MAX_PUSH, never ending inside one edit (the server needs a new row's `_cl`
 * and its required fields in one push).
 */
async function chunk(): Promise<{ seq?: number; change: Change; edit?: string }[]> {
  const entries = await db.outbox.orderBy("seq").limit(MAX_PUSH + 1).toArray();
  if (entries.length <= MAX_PUSH) return entries;
  let end = MAX_PUSH;
  const cut = entries[MAX_PUSH]!.edit;
  while (cut !== undefined && end > 0 && entries[end - 1]!.edit === cut) end -= 1;
  return entries.slice(0, end > 0 ? end : MAX_PUSH);
}

/** Drop the entries the server answered; keep rejections to show; stamp skewed ones again. */
async function settle(entries: { seq?: number; change: Change }[], answer: SyncResponse): Promise<number> {
  if (entries.length === 0) return 0;
  const skewed: Change[] = [];
  // Fix: the refused entries are stamped again in this same transaction (rows too), so a crash between dropping
  // them and adding them back cannot lose them (3.1, step 2); and the clock is set back first (rewindClock), or
  // the new stamp would be as far ahead as the refused one and refused again, round after round.
  await db.transaction("rw", [db.rows, db.outbox, db.rejected, db.meta], async () => {
    const now = Date.now();
    let accepted = "";
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const result = answer.results[i];
      if (!result) continue; // not answered: stays in the outbox
      await db.outbox.delete(entry.seq!);
      if (result.status === "accepted" && entry.change.hlc > accepted) accepted = entry.change.hlc;
      if (result.status === "rejected") {
        if (result.code === "sync.clock_skew") {
          skewed.push(entry.change);
          continue;
        }
        await forgetRejected(entry.change);
        await db.rejected.add({
          change: entry.change,
          code: result.code ?? "sync.rejected",
          message: result.message ?? "",
          field: result.field ?? null,
          at: now,
        });
      }
    }
    if (accepted) await confirmStamp(accepted); // the latest stamp the server took, for rewindClock
    if (skewed.length > 0) {
      await setMeta("clockOffsetMs", answer.server_time - now);
      await rewindClock();
      for (const change of skewed) await restamp(change);
    }
  });
  return entries.length - skewed.length;
}

let running: Promise<SyncOutcome | null> | null = null;
let again = false;

/**
 * Sync now unless another tab is syncing (then that tab's run picks up our outbox: it is the same database).
 * Resolves with what was done, or null when another tab held the lock or there was nothing to do.
 */
export function requestSync(): Promise<SyncOutcome | null> {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    try {
      do {
        again = false;
        const result = await withLock(runOnce);
        if (result === "busy") return null;
        if (!again) return result;
      } while (again);
      return null;
    } finally {
      running = null;
    }
  })();
  return running;
}

async function withLock<T>(fn: () => Promise<T>): Promise<T | "busy"> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  if (!locks) return fn();
  return locks.request("fieldbook-sync", { ifAvailable: true }, async (lock) => (lock ? fn() : "busy"));
}

async function runOnce(): Promise<SyncOutcome | null> {
  const session = await getMeta<Session>("session");
  if (!session) return null;
  await setStatus({ state: "syncing", lastAttemptAt: Date.now() });
  try {
    const outcome = await syncOnce();
    await setStatus({ state: "idle", lastSuccessAt: Date.now(), error: null });
    for (const hook of afterSync) await hook().catch(() => undefined);
    return outcome;
  } catch (err) {
    if (err instanceof NetworkError) {
      await setStatus({ state: "offline", error: null });
    } else if (err instanceof ApiError && err.status === 401) {
      await setStatus({ state: "login", error: err.message });
    } else {
      await setStatus({ state: "error", error: (err as Error).message });
    }
    return null;
  }
}

const afterSync: (() => Promise<void>)[] = [];

/** Work that follows a successful sync: photo uploads, refreshing rules. */
export function afterEachSync(hook: () => Promise<void>): void {
  afterSync.push(hook);
}

let timer: ReturnType<typeof setInterval> | null = null;
let editTimer: ReturnType<typeof setTimeout> | null = null;

/** Start syncing in the background: now, on `online`, every minute, and 1.5 s after the last edit. */
export function startBackgroundSync(): () => void {
  const kick = () => void requestSync();
  kick();
  window.addEventListener("online", kick);
  timer = setInterval(kick, TIMER_MS);
  const stopEdits = onEdit(() => {
    if (editTimer) clearTimeout(editTimer);
    editTimer = setTimeout(kick, AFTER_EDIT_MS);
  });
  return () => {
    window.removeEventListener("online", kick);
    if (timer) clearInterval(timer);
    if (editTimer) clearTimeout(editTimer);
    stopEdits();
  };
}
