import { getMeta } from "../db/db";
import { liveRows } from "../db/replica";
import { hoursOn, isOpen, reminders, store, timeZone, visits, type Reminder, type Store, type Visit } from "../data";
import { useLive, useSession } from "../hooks";
import { formatDateTime, formatPercent, t } from "../i18n";
import { Link, navigate } from "../router";
import { MapView } from "../ui/MapView";

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** A link the phone hands to its maps app: geo: on Android, Apple Maps on iOS. */
export function navigationUrl(s: Store): string {
  const ios = /iPad|iPhone|iPod/.test(navigator.userAgent);
  const label = encodeURIComponent(s.name);
  return ios ? `https://maps.apple.com/?daddr=${s.lat},${s.lng}&q=${label}` : `geo:${s.lat},${s.lng}?q=${s.lat},${s.lng}(${label})`;
}

export function StoreScreen({ id }: { id: string }) {
  const session = useSession();
  const zone = timeZone(session);
  const data = useLive(
    async () => {
      const s = await store(id);
      const own = (await visits()).filter((v) => v.store_id === id);
      const open = (await reminders()).filter((r) => r.store_id === id && isOpen(r));
      const inspections = (await liveRows("inspection")).filter((i) => i.store_id === id);
      const rules = await getMeta<{ fence_tolerance_m: number }>("visitRules");
      return { store: s, visits: own, reminders: open, inspections, rules };
    },
    [id],
    { store: undefined as Store | undefined, visits: [] as Visit[], reminders: [] as Reminder[], inspections: [] as Record<string, unknown>[], rules: undefined as { fence_tolerance_m: number } | undefined },
  );
  const s = data.store;
  if (!s) return <p class="empty">{t("store.unknown")}</p>;
  const history = data.visits
    .filter((v) => v.check_in_at)
    .sort((a, b) => String(b.check_in_at).localeCompare(String(a.check_in_at)))
    .slice(0, 5);
  const active = data.visits.find((v) => v.state === "checked_in");
  const todayHours = hoursOn(s, new Date(), zone);
  return (
    <div class="stack" data-testid="store">
      <section class="card">
        <h2 data-testid="store-name">{s.name}</h2>
        <div class="muted">{s.code}{s.chain ? ` · ${s.chain}` : ""} · {t(`channel.${s.channel}`)}</div>
        <p>{s.address}{s.district ? `, ${s.district}` : ""}{s.city ? `, ${s.city}` : ""}</p>
        <div class="muted">
          {t("store.fence")}:{" "}
          {s.geofence.kind === "circle" ? t("store.fence_circle", { m: s.geofence.radius_m }) : t("store.fence_polygon")}
          {data.rules ? ` · ${t("store.tolerance", { m: data.rules.fence_tolerance_m })}` : ""}
        </div>
        <div class="actions">
          {active ? (
            <button class="primary" onClick={() => navigate(`/visits/${active.id}`)}>{t("today.continue")}</button>
          ) : (
            <button class="primary" onClick={() => navigate(`/stores/${s.id}/check-in`)} data-testid="check-in">{t("visit.check_in")}</button>
          )}
          <a class="button" href={navigationUrl(s)} data-testid="navigate">{t("store.navigate")}</a>
        </div>
      </section>
      <MapView points={[{ lat: s.lat, lng: s.lng, label: "●", title: s.name }]} />
      <section class="card">
        <h3>{t("store.hours")}</h3>
        {s.opening_hours === null ? (
          <p class="muted">{t("store.hours_unknown")}</p>
        ) : (
          <table>
            {WEEKDAYS.map((d) => (
              <tr>
                <td style="padding-right:12px">{t(`day.${d}`)}</td>
                <td>{(s.opening_hours?.[d] ?? []).map(([a, b]) => `${a}–${b}`).join(", ") || t("store.closed")}</td>
              </tr>
            ))}
          </table>
        )}
        {todayHours !== null && todayHours.length === 0 && <p class="error-text">{t("store.closed_today")}</p>}
      </section>
      <section class="card">
        <h3>{t("store.reminders")}</h3>
        {data.reminders.length === 0 && <p class="muted">{t("reminders.none")}</p>}
        {data.reminders.map((r) => (
          <Link href={`/reminders/${r.id}`} class="stop">
            <span class="grow">{r.text}<br /><span class="muted">{formatDateTime(r.due_at, zone)}</span></span>
          </Link>
        ))}
      </section>
      <section class="card">
        <h3>{t("store.last_visits")}</h3>
        {history.length === 0 && <p class="muted">{t("store.no_visits")}</p>}
        {history.map((v) => {
          const insp = data.inspections.find((i) => i.visit_id === v.id);
          return (
            <Link href={`/visits/${v.id}`} class="stop">
              <span class="grow">
                {formatDateTime(v.check_in_at, zone)} · {v.outcome ? t(`outcome.${v.outcome}`) : t(`state.${v.state}`)}
                {insp && typeof insp.score === "number" ? ` · ${t("inspection.score")} ${formatPercent(insp.score)}` : ""}
                {v.notes ? <><br /><span class="muted">{v.notes}</span></> : null}
              </span>
            </Link>
          );
        })}
      </section>
    </div>
  );
}
