import { useEffect, useState } from "preact/hooks";
import { db } from "../db/db";
import { liveRows } from "../db/replica";
import { store as readStore, timeZone, visit as readVisit, type Store, type Visit } from "../data";
import { currentFix } from "../geo/position";
import { useLive, useSession } from "../hooks";
import { formatDateTime, formatPercent, t } from "../i18n";
import { navigate } from "../router";
import { addPhoto, photoUrl } from "../photos";

export function VisitScreen({ id }: { id: string }) {
  const session = useSession();
  const zone = timeZone(session);
  const data = useLive(
    async () => {
      const v = await readVisit(id);
      const s = v ? await readStore(v.store_id) : undefined;
      const inspection = (await liveRows("inspection")).find((i) => i.visit_id === id);
      const photos = (await liveRows("photo")).filter((p) => p.visit_id === id);
      const blobs = await db.photos.bulkGet(photos.map((p) => String(p.sha256)));
      return { visit: v, store: s, inspection, photos: photos.map((p, i) => ({ row: p, local: blobs[i] })) };
    },
    [id],
    { visit: undefined as Visit | undefined, store: undefined as Store | undefined, inspection: undefined as Record<string, unknown> | undefined, photos: [] as { row: Record<string, unknown>; local: { blob: Blob; uploaded: number } | undefined }[] },
  );
  const [busy, setBusy] = useState(false);
  const [photoError, setPhotoError] = useState<string | null>(null);
  const v = data.visit;
  if (!v || !data.store) return <p class="empty">{t("visit.unknown")}</p>;
  const flags = Array.isArray(v.flags) ? v.flags : [];
  const takePhoto = async (event: Event) => {
    const input = event.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    setBusy(true);
    try {
      const where = await currentFix({ timeoutMs: 5000 }).catch(() => null);
      await addPhoto(v.id, file, where);
      setPhotoError(null);
    } catch {
      // Not an image this browser can decode (or storage is full): say so instead of failing silently.
      setPhotoError(t("visit.photo_failed"));
    } finally {
      input.value = "";
      setBusy(false);
    }
  };
  return (
    <div class="stack" data-testid="visit">
      <section class="card">
        <h2>{data.store.name}</h2>
        <div class="row">
          <span class={`pill ${v.state}`} data-testid="visit-state">{t(`state.${v.state}`)}</span>
          {v.verdict && <span class={`pill ${v.verdict}`} data-testid="server-verdict">{t(`verdict.${v.verdict}`)}</span>}
        </div>
        <p class="muted">
          {v.check_in_at && t("visit.in_at", { when: formatDateTime(v.check_in_at, zone) })}
          {v.check_out_at && ` · ${t("visit.out_at", { when: formatDateTime(v.check_out_at, zone) })}`}
        </p>
        {flags.length > 0 && (
          <ul class="error-text" data-testid="flags">
            {flags.map((f) => <li>{t(`flag.${f.code}`)}</li>)}
          </ul>
        )}
      </section>
      <section class="card">
        <div class="actions">
          <button class="primary" onClick={() => navigate(`/visits/${v.id}/inspection`)} data-testid="open-inspection">
            {data.inspection ? t("visit.continue_inspection") : t("visit.start_inspection")}
          </button>
          <button onClick={() => navigate(`/visits/${v.id}/log`)} data-testid="open-log">{t("visit.log")}</button>
          <label class="button" style="margin:0;font-weight:400">
            {busy ? t("visit.saving_photo") : t("visit.photo")}
            <input type="file" accept="image/*" capture="environment" style="display:none" onChange={takePhoto} data-testid="photo-input" />
          </label>
          {v.state === "checked_in" && (
            <button onClick={() => navigate(`/visits/${v.id}/check-out`)} data-testid="check-out">{t("visit.check_out")}</button>
          )}
        </div>
        {photoError && <p class="error-text" role="alert">{photoError}</p>}
        {data.inspection && typeof data.inspection.score === "number" && (
          <p class="muted">{t("inspection.score")}: {formatPercent(data.inspection.score as number)}</p>
        )}
      </section>
      {data.photos.length > 0 && (
        <section class="card">
          <h3>{t("visit.photos", { n: data.photos.length })}</h3>
          <div class="row" style="flex-wrap:wrap">
            {data.photos.map((p) => (
              <PhotoThumb blob={p.local?.blob} uploaded={Boolean(p.row.uploaded) || p.local?.uploaded === 1} />
            ))}
          </div>
        </section>
      )}
      {(v.notes || v.outcome) && (
        <section class="card">
          {v.outcome && <b>{t(`outcome.${v.outcome}`)}</b>}
          {v.notes && <p>{v.notes}</p>}
        </section>
      )}
    </div>
  );
}

function PhotoThumb({ blob, uploaded }: { blob: Blob | undefined; uploaded: boolean }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!blob) return;
    const u = photoUrl(blob);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [blob]);
  return (
    <figure style="margin:0;width:96px">
      {url ? <img src={url} width={96} height={96} style="object-fit:cover;border-radius:8px" alt="" /> : <div style="width:96px;height:96px;background:#ddd;border-radius:8px" />}
      <figcaption class="muted">{uploaded ? t("visit.photo_uploaded") : t("visit.photo_waiting")}</figcaption>
    </figure>
  );
}
