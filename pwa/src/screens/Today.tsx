import { useState } from "preact/hooks";
import { db } from "../db/db";
import { ApiError, NetworkError, request } from "../api";
import { dayVisits, isDone, localDate, session as readSession, stores, timeZone, visits, type Store, type Visit } from "../data";
import { useLive, useOnline, useSession } from "../hooks";
import { formatTime, t } from "../i18n";
import { Link, navigate } from "../router";
import { requestSync } from "../sync/client";
import { currentFix } from "../geo/position";
import { MapView } from "../ui/MapView";

export function Today() {
  const session = useSession();
  const zone = timeZone(session);
  const today = localDate(new Date(), zone);
  const data = useLive(
    async () => {
      const byId = new Map((await stores()).map((s) => [s.id, s] as const));
      return { visits: dayVisits(await visits(), today, zone), stores: byId };
    },
    [today, zone],
    { visits: [] as Visit[], stores: new Map<string, Store>() },
  );
  const online = useOnline();
  const [replanning, setReplanning] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const planned = data.visits.filter((v) => v.planned_seq !== null && v.planned_seq !== undefined);
  // Skipped stops are not part of the day's work; a visit in progress counts once checked out.
  const done = data.visits.filter((v) => v.state === "checked_out").length;
  const total = Math.max(planned.filter((v) => v.state !== "skipped").length, data.visits.filter((v) => v.state !== "skipped").length);
  const next = data.visits.find((v) => v.state === "planned" || v.state === "checked_in");

  const replan = async () => {
    setReplanning(true);
    setMessage(null);
    try {
      // The server must know every check-in first: re-planning deletes planned visits that no longer fit the
      // day, and a visit checked in offline must not be one of them.
      await requestSync();
      if ((await db.outbox.count()) > 0) {
        setMessage(t("today.replan_pending"));
        return;
      }
      const s = await readSession();
      const fix = await currentFix({ timeoutMs: 15000 });
      await request("POST", "/planning/replan", {
        rep_id: s!.user.id,
        date: today,
        position: { lat: fix.lat, lng: fix.lng },
        at: new Date().toISOString(),
      });
      await requestSync();
      setMessage(t("today.replanned"));
    } catch (err) {
      if (err instanceof NetworkError) setMessage(t("today.replan_offline"));
      else if (err instanceof ApiError) setMessage(err.message);
      else setMessage(t("today.replan_no_position"));
    } finally {
      setReplanning(false);
    }
  };

  const points = data.visits.flatMap((v, i) => {
    const s = data.stores.get(v.store_id);
    return s ? [{ lat: s.lat, lng: s.lng, label: String(v.planned_seq ?? i + 1), title: s.name, done: isDone(v), onClick: () => navigate(`/stores/${s.id}`) }] : [];
  });

  return (
    <div class="stack" data-testid="today">
      <section class="card">
        <div class="row">
          <div class="grow">
            <h2>{t("today.heading", { date: today })}</h2>
            <div class="muted" data-testid="today-progress">{t("today.progress", { done, total })}</div>
          </div>
          <button onClick={replan} disabled={replanning || !online} title={online ? "" : t("today.replan_offline")} data-testid="replan">
            {replanning ? t("today.replanning") : t("today.replan")}
          </button>
        </div>
        <div class="progress" style="margin-top:8px"><div style={`width:${total ? (100 * done) / total : 0}%`} /></div>
        {message && <p class="muted" role="status">{message}</p>}
      </section>
      {points.length > 0 && <MapView points={points} route />}
      {next && data.stores.get(next.store_id) && (
        <section class="card">
          <div class="muted">{t("today.next")}</div>
          <h3>{data.stores.get(next.store_id)!.name}</h3>
          <div class="actions">
            {next.state === "planned" ? (
              <button class="primary" onClick={() => navigate(`/stores/${next.store_id}/check-in`)} data-testid="next-check-in">
                {t("visit.check_in")}
              </button>
            ) : (
              <button class="primary" onClick={() => navigate(`/visits/${next.id}`)}>{t("today.continue")}</button>
            )}
          </div>
        </section>
      )}
      {data.visits.length === 0 ? (
        <p class="empty">{t("today.nothing")}</p>
      ) : (
        <section class="card" data-testid="route">
          {data.visits.map((v, i) => {
            const s = data.stores.get(v.store_id);
            return (
              <Link href={isDone(v) ? `/visits/${v.id}` : `/stores/${v.store_id}`} class={`stop ${isDone(v) ? "done" : v.state}`} testid="stop">
                <span class="seq">{v.planned_seq ?? "+"}</span>
                <span class="grow">
                  <b>{s?.name ?? t("store.unknown")}</b>
                  <br />
                  <span class="muted">
                    {v.planned_arrival_at ? t("today.eta", { time: formatTime(v.planned_arrival_at, zone) }) : t("today.unplanned")}
                    {v.check_in_at ? ` · ${t("today.checked_in_at", { time: formatTime(v.check_in_at, zone) })}` : ""}
                  </span>
                </span>
                <span class={`pill ${v.state}`}>{t(`state.${v.state}`)}</span>
              </Link>
            );
          })}
        </section>
      )}
    </div>
  );
}
