// Check-in and check-out: the phone's position and accuracy, the fence verdict shown at once with the server's
// own rules (backend/visits/fences.py, the shared vectors), and what to do when the fix is poor.
import { useEffect, useState } from "preact/hooks";
import { dayVisits, localDate, store as readStore, timeZone, visit as readVisit, visits, type Store, type Visit } from "../data";
import { getMeta } from "../db/db";
import { edit } from "../db/replica";
import { judge, type Verdict } from "../geo/fence";
import { PositionError, watchFix, type PositionFix } from "../geo/position";
import { useLive, useSession } from "../hooks";
import { uuidv7 } from "../ids";
import { t } from "../i18n";
import { navigate } from "../router";

interface VisitRules {
  fence_tolerance_m: number;
  max_accuracy_m: number;
}

const DEFAULT_RULES: VisitRules = { fence_tolerance_m: 25, max_accuracy_m: 150 };

export function CheckIn(props: { storeId?: string; visitId?: string; checkOut?: boolean }) {
  const session = useSession();
  const zone = timeZone(session);
  const data = useLive(
    async () => {
      const v = props.visitId ? await readVisit(props.visitId) : undefined;
      const s = await readStore(props.storeId ?? v?.store_id ?? "");
      const rules = (await getMeta<VisitRules>("visitRules")) ?? DEFAULT_RULES;
      return { visit: v, store: s, rules };
    },
    [props.storeId, props.visitId],
    { visit: undefined as Visit | undefined, store: undefined as Store | undefined, rules: DEFAULT_RULES },
  );
  const [fix, setFix] = useState<PositionFix | null>(null);
  const [error, setError] = useState<PositionError | null>(null);
  const [watching, setWatching] = useState(true);
  const [saving, setSaving] = useState(false);
  useEffect(() => {
    if (!watching) return;
    return watchFix(
      (f) => {
        setError(null);
        // Keep the best fix seen while waiting; a fresher one replaces it when it is as good.
        setFix((old) => (!old || f.accuracy <= old.accuracy || f.at - old.at > 30000 ? f : old));
      },
      (e) => setError(e),
    );
  }, [watching]);

  const s = data.store;
  if (!s) return <p class="empty">{t("store.unknown")}</p>;
  let verdict: Verdict | null = null;
  if (fix) {
    try {
      verdict = judge({ lat: s.lat, lng: s.lng, geofence: s.geofence }, { lat: fix.lat, lng: fix.lng, accuracy_m: fix.accuracy }, data.rules);
    } catch {
      // A fence the phone cannot judge (a malformed polygon): the server judges it; check-in is still possible.
      verdict = { verdict: "uncertain", reason: "accuracy_overlaps_edge", distance_m: 0 };
    }
  }

  const save = async () => {
    if (!fix) return;
    setSaving(true);
    try {
      const at = new Date().toISOString();
      const prefix = props.checkOut ? "check_out" : "check_in";
      const fields: Record<string, unknown> = {
        [`${prefix}_at`]: at,
        [`${prefix}_lat`]: round(fix.lat),
        [`${prefix}_lng`]: round(fix.lng),
        [`${prefix}_accuracy_m`]: Math.round(fix.accuracy * 10) / 10,
        // The fix's age when the check-in is made (the screen may have held it for a while).
        [`${prefix}_fix_age_s`]: Math.max(0, Math.round((Date.now() - fix.at) / 1000)),
        state: props.checkOut ? "checked_out" : "checked_in",
      };
      if (props.checkOut && data.visit) {
        await edit("visit", data.visit.id, fields);
        navigate("/", true);
        return;
      }
      // Check in to today's planned visit of this store if there is one, else make an unplanned visit.
      const today = localDate(new Date(), zone);
      const planned = dayVisits(await visits(), today, zone).find((v) => v.store_id === s.id && v.state === "planned");
      if (planned) {
        await edit("visit", planned.id, fields);
        navigate(`/visits/${planned.id}`, true);
      } else {
        const id = uuidv7();
        await edit("visit", id, { store_id: s.id, planned: false, ...fields }, { create: true });
        navigate(`/visits/${id}`, true);
      }
    } finally {
      setSaving(false);
    }
  };

  const poor = verdict?.reason === "accuracy_too_poor" || verdict?.reason === "accuracy_overlaps_edge";
  const action = props.checkOut ? t("visit.check_out") : t("visit.check_in");
  return (
    <div class="stack" data-testid="check-in-screen">
      <section class="card">
        <h2>{s.name}</h2>
        <div class="muted">{s.address}</div>
      </section>
      <section class="card" aria-live="polite">
        {!fix && !error && <p data-testid="locating">{t("checkin.locating")}</p>}
        {error && (
          <p class="error-text" data-testid="position-error">
            {t(`checkin.error_${error.reason}`)}
          </p>
        )}
        {fix && verdict && (
          <>
            <div class={`verdict ${verdict.verdict}`} data-testid="verdict" data-verdict={verdict.verdict} data-reason={verdict.reason}>
              {t(`verdict.${verdict.verdict}`)}
            </div>
            <p class="muted" data-testid="verdict-detail">{t(`reason.${verdict.reason}`, { m: Math.round(verdict.distance_m), acc: Math.round(fix.accuracy), limit: data.rules.max_accuracy_m })}</p>
            <p class="muted" data-testid="fix">
              {t("checkin.fix", { lat: fix.lat.toFixed(5), lng: fix.lng.toFixed(5), acc: Math.round(fix.accuracy), age: fix.ageS })}
            </p>
          </>
        )}
        {poor && <p data-testid="advice">{t("checkin.advice_poor")}</p>}
        {verdict?.verdict === "outside" && <p data-testid="advice">{t("checkin.advice_outside")}</p>}
        <div class="actions">
          {verdict?.verdict === "inside" ? (
            <button class="primary" onClick={save} disabled={saving} data-testid="confirm-check">{action}</button>
          ) : (
            <>
              <button
                onClick={() => {
                  setFix(null);
                  setWatching(false);
                  setTimeout(() => setWatching(true), 0);
                }}
                data-testid="retry-fix"
              >
                {poor ? t("checkin.wait") : t("checkin.retry")}
              </button>
              {fix && (
                <button class="danger" onClick={save} disabled={saving} data-testid="confirm-check">
                  {t("checkin.anyway", { action })}
                </button>
              )}
            </>
          )}
        </div>
        {fix && verdict && verdict.verdict !== "inside" && <p class="muted">{t("checkin.flag_note")}</p>}
      </section>
    </div>
  );
}

function round(x: number): number {
  return Math.round(x * 1e7) / 1e7;
}
