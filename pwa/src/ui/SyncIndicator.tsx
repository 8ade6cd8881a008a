import { db } from "../db/db";
import { useLive, useOnline } from "../hooks";
import { formatDateTime, t } from "../i18n";
import { navigate } from "../router";
import type { SyncStatus } from "../sync/client";

/** On every screen: pending changes, the last successful sync, and errors. Tap for details. */
export function SyncIndicator() {
  const online = useOnline();
  const info = useLive(
    async () => ({
      pending: (await db.outbox.count()) + (await db.photos.where("uploaded").equals(0).count()),
      rejected: await db.rejected.count(),
      status: (await db.meta.get("syncStatus"))?.v as SyncStatus | undefined,
    }),
    [],
    { pending: 0, rejected: 0, status: undefined as SyncStatus | undefined },
  );
  const state = !online ? "offline" : (info.status?.state ?? "idle");
  const last = info.status?.lastSuccessAt ?? null;
  const label =
    state === "syncing"
      ? t("sync.syncing")
      : state === "offline"
        ? t("sync.offline")
        : state === "error" || state === "login"
          ? t("sync.error")
          : info.pending > 0
            ? t("sync.pending", { n: info.pending })
            : t("sync.synced");
  const title = [
    t("sync.pending", { n: info.pending }),
    last ? t("sync.last", { when: formatDateTime(last) }) : t("sync.never"),
    info.status?.error ?? "",
  ]
    .filter(Boolean)
    .join(" · ");
  return (
    <button
      class={`sync-indicator ${state}${info.rejected > 0 ? " has-rejected" : ""}`}
      data-testid="sync-indicator"
      data-state={state}
      data-pending={info.pending}
      title={title}
      aria-label={title}
      onClick={() => navigate("/settings")}
    >
      <span class="dot" aria-hidden="true" />
      <span class="label">{label}</span>
      {info.pending > 0 && state !== "syncing" && <span class="count">{info.pending}</span>}
    </button>
  );
}
