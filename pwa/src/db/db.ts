// The phone's local database (IndexedDB through Dexie).
//
// rows:     the local replica, one record per synced row: every field with its winning version
//           (docs/sync-protocol.md 2), so a pulled change merges field by field. Tables the app does not
//           know are kept like the others (3.1, step 3).
// outbox:   changes made here and not yet answered by the server, in the order they were made.
// rejected: changes the server refused, with its explanation, until the user has seen them.
// photos:   photo bytes waiting for upload (their metadata is a synced `photo` row).
// meta:     the session, the clock, the cursor and the sync status.
import Dexie, { type Table } from "dexie";
import type { Change } from "../sync/changes";
import type { RowRecord } from "../sync/merge";

export interface OutboxEntry {
  seq?: number;
  change: Change;
  /** The edit() that wrote it: a chunk sent to the server never splits one edit (a new row and its fields). */
  edit?: string;
}

export interface RejectedEntry {
  id?: number;
  change: Change;
  code: string;
  message: string;
  field: string | null;
  at: number;
}

export interface PhotoBlob {
  sha256: string;
  photoId: string;
  blob: Blob;
  uploaded: 0 | 1;
  attempts: number;
  /** When the server confirmed it holds the bytes; they are dropped from the phone two days later. */
  uploadedAt?: number;
}

export interface MetaEntry {
  k: string;
  v: unknown;
}

export class FieldbookDB extends Dexie {
  rows!: Table<RowRecord, [string, string]>;
  outbox!: Table<OutboxEntry, number>;
  rejected!: Table<RejectedEntry, number>;
  photos!: Table<PhotoBlob, string>;
  meta!: Table<MetaEntry, string>;

  constructor(name = "fieldbook") {
    super(name);
    this.version(1).stores({
      rows: "[t+id], t",
      outbox: "++seq",
      rejected: "++id",
      photos: "sha256, uploaded",
      meta: "k",
    });
  }
}

export let db = new FieldbookDB();

/** Tests and the first-sync benchmark open a database of their own. */
export function useDatabase(next: FieldbookDB): void {
  db = next;
}

export async function getMeta<T>(key: string): Promise<T | undefined> {
  const entry = await db.meta.get(key);
  return entry?.v as T | undefined;
}

export async function setMeta(key: string, value: unknown): Promise<void> {
  await db.meta.put({ k: key, v: value });
}
