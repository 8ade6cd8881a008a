// The reminders inbox: follow-ups and alerts, from the local replica (so it works offline). Snooze and dismiss
// are edits of the synced row; the server sends the notification again at the new due time.
import { edit } from "../db/replica";
import { isOpen, reminders, stores, timeZone, type Reminder, type Store } from "../data";
import { useLive, useSession } from "../hooks";
import { formatDateTime, t } from "../i18n";
import { Link, navigate } from "../router";

export async function snooze(r: Reminder, minutes: number): Promise<void> {
  await edit("reminder", r.id, { due_at: new Date(Date.now() + minutes * 60_000).toISOString(), status: "pending" });
  await closeNotification(r.id);
}

export async function dismiss(r: Reminder): Promise<void> {
  await edit("reminder", r.id, { status: "dismissed" });
  await closeNotification(r.id);
}

/** Take the reminder's notification out of the tray (its tag is `reminder-<id>`, docs/push.md). */
async function closeNotification(id: string): Promise<void> {
  try {
    const registration = await navigator.serviceWorker?.getRegistration();
    for (const n of (await registration?.getNotifications({ tag: `reminder-${id}` })) ?? []) n.close();
  } catch {
    // no service worker or notifications here
  }
}

export function Reminders() {
  const session = useSession();
  const zone = timeZone(session);
  const data = useLive(
    async () => ({
      reminders: (await reminders()).filter(isOpen).sort((a, b) => a.due_at.localeCompare(b.due_at)),
      stores: new Map((await stores()).map((s) => [s.id, s] as const)),
    }),
    [],
    { reminders: [] as Reminder[], stores: new Map<string, Store>() },
  );
  const now = new Date().toISOString();
  const due = data.reminders.filter((r) => r.due_at <= now);
  const later = data.reminders.filter((r) => r.due_at > now);
  const item = (r: Reminder) => (
    <Link href={`/reminders/${r.id}`} class="stop" testid="reminder">
      <span class="grow">
        {r.urgent && <span class="pill missed">{t("reminder.urgent")}</span>} {r.kind === "alert" && <span class="pill uncertain">{t("reminder.alert")}</span>}{" "}
        {r.text}
        <br />
        <span class="muted">
          {formatDateTime(r.due_at, zone)}
          {r.store_id && data.stores.get(r.store_id) ? ` · ${data.stores.get(r.store_id)!.name}` : ""}
        </span>
      </span>
    </Link>
  );
  return (
    <div class="stack" data-testid="reminders">
      <section class="card">
        <h2>{t("reminders.due")}</h2>
        {due.length === 0 ? <p class="muted">{t("reminders.none")}</p> : due.map(item)}
      </section>
      <section class="card">
        <h2>{t("reminders.upcoming")}</h2>
        {later.length === 0 ? <p class="muted">{t("reminders.none")}</p> : later.map(item)}
      </section>
    </div>
  );
}

export function ReminderScreen({ id }: { id: string }) {
  const session = useSession();
  const zone = timeZone(session);
  const data = useLive(
    async () => {
      const r = (await reminders()).find((x) => x.id === id);
      const s = r?.store_id ? (await stores()).find((x) => x.id === r.store_id) : undefined;
      return { reminder: r, store: s };
    },
    [id],
    { reminder: undefined as Reminder | undefined, store: undefined as Store | undefined },
  );
  const r = data.reminder;
  if (!r) return <p class="empty" data-testid="reminder-missing">{t("reminder.not_here")}</p>;
  return (
    <div class="stack" data-testid="reminder-detail" data-reminder-id={r.id}>
      <section class="card">
        {r.kind === "alert" && <span class="pill uncertain">{t("reminder.alert")}</span>}
        <h2 data-testid="reminder-text">{r.text}</h2>
        <p class="muted">{t("reminder.due_at", { when: formatDateTime(r.due_at, zone) })}</p>
        {data.store && (
          <p>
            <Link href={`/stores/${data.store.id}`}>{data.store.name}</Link>
          </p>
        )}
        <p class="muted">{t(`reminder.status_${r.status ?? "pending"}`)}</p>
      </section>
      {isOpen(r) && (
        <div class="actions">
          <button onClick={() => void snooze(r, 60)} data-testid="snooze-hour">{t("reminder.snooze_hour")}</button>
          <button onClick={() => void snooze(r, 24 * 60)} data-testid="snooze-day">{t("reminder.snooze_day")}</button>
          <button class="primary" onClick={() => void dismiss(r).then(() => navigate("/reminders"))} data-testid="dismiss">
            {t("reminder.dismiss")}
          </button>
        </div>
      )}
    </div>
  );
}
