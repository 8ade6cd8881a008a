// Photos: taken in a visit, kept in IndexedDB as bytes, described by a synced `photo` row, and uploaded on their
// own when the network allows (PUT /photos/{sha256}, safe to repeat). Every photo is re-encoded as JPEG of at
// most 2,560 px on its long side: HEIC from an iPhone becomes something the server takes, and a rep on a
// mobile connection does not send 12 MB per shelf.
import { ApiError, NetworkError, request } from "./api";
import { db } from "./db/db";
import { edit } from "./db/replica";
import { uuidv7 } from "./ids";
import { afterEachSync } from "./sync/client";

const MAX_SIDE = 2560;

export async function sha256Hex(blob: Blob): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function toJpeg(file: Blob): Promise<Blob> {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const width = Math.round(bitmap.width * scale);
  const height = Math.round(bitmap.height * scale);
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d")!.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("encode failed"))), "image/jpeg", 0.85),
  );
}

export async function addPhoto(
  visitId: string,
  file: Blob,
  where: { lat: number; lng: number } | null,
): Promise<string> {
  const blob = await toJpeg(file);
  const sha256 = await sha256Hex(blob);
  const photoId = uuidv7();
  await db.photos.put({ sha256, photoId, blob, uploaded: 0, attempts: 0 });
  await edit(
    "photo",
    photoId,
    { visit_id: visitId, sha256, taken_at: new Date().toISOString(), lat: where?.lat ?? null, lng: where?.lng ?? null },
    { create: true },
  );
  return photoId;
}

async function serverHas(sha256: string): Promise<boolean> {
  try {
    await request("HEAD", `/photos/${sha256}`);
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return false;
    throw err;
  }
}

/** Upload what is waiting, oldest first; stop at the first network failure (the next sync tries again). */
export async function uploadPending(): Promise<number> {
  const pending = await db.photos.where("uploaded").equals(0).toArray();
  let done = 0;
  for (const photo of pending) {
    try {
      if (!(await serverHas(photo.sha256))) {
        await request("PUT", `/photos/${photo.sha256}`, undefined, { raw: photo.blob, contentType: photo.blob.type || "image/jpeg" });
      }
      await db.photos.update(photo.sha256, { uploaded: 1, uploadedAt: Date.now() });
      done += 1;
    } catch (err) {
      if (err instanceof NetworkError || err instanceof TypeError) return done;
      // The server is busy, failing or wants a new login: try again later, without counting it against the photo.
      if (err instanceof ApiError && (err.status >= 500 || err.status === 429 || err.status === 401)) return done;
      // The server refused these bytes (not an image, too large): keep them, count the attempt, show it.
      await db.photos.update(photo.sha256, { attempts: photo.attempts + 1 });
      if (err instanceof ApiError && photo.attempts >= 2) {
        await db.rejected.add({
          change: { table: "photo", row: photo.photoId, column: "sha256", value: photo.sha256, hlc: "", node: "" },
          code: err.code,
          message: err.message,
          field: "body",
          at: Date.now(),
        });
        await db.photos.update(photo.sha256, { uploaded: 1 });
      }
    }
  }
  return done;
}

const KEEP_UPLOADED_MS = 2 * 24 * 3600_000;

/** Photo bytes the server holds are dropped from the phone after two days (the server serves them after). */
export async function forgetUploaded(now = Date.now()): Promise<number> {
  const uploaded = await db.photos.where("uploaded").equals(1).toArray();
  const old = uploaded.filter((p) => now - (p.uploadedAt ?? 0) > KEEP_UPLOADED_MS).map((p) => p.sha256);
  await db.photos.bulkDelete(old);
  return old.length;
}

export function installPhotoUploads(): void {
  afterEachSync(async () => {
    await uploadPending();
    await forgetUploaded();
  });
}

export function photoUrl(blob: Blob): string {
  return URL.createObjectURL(blob);
}
