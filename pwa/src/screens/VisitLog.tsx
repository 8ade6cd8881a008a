// The visit log: outcome, notes, order value, next steps and a follow-up reminder. Every field is saved as it
// is typed (each its own change, so two devices editing different fields merge).
import { useState } from "preact/hooks";
import { store as readStore, timeZone, visit as readVisit, zonedInput, zonedInstant, type Store, type Visit } from "../data";
import { edit } from "../db/replica";
import { useLive, useSession } from "../hooks";
import { uuidv7 } from "../ids";
import { currencyDigits, t } from "../i18n";
import { navigate } from "../router";
import { SavedText } from "../ui/SavedText";

const OUTCOMES = ["order_taken", "no_order", "store_closed", "manager_absent", "other"];

export function VisitLog({ visitId }: { visitId: string }) {
  const session = useSession();
  const zone = timeZone(session);
  const currency = session?.org?.currency ?? "CNY";
  const digits = currencyDigits(currency);
  const data = useLive(
    async () => {
      const v = await readVisit(visitId);
      return { visit: v, store: v ? await readStore(v.store_id) : undefined };
    },
    [visitId],
    { visit: undefined as Visit | undefined, store: undefined as Store | undefined },
  );
  const [followText, setFollowText] = useState("");
  const [followDue, setFollowDue] = useState(() => zonedInput(1, "09:00", zone));
  const [saved, setSaved] = useState<string | null>(null);
  const v = data.visit;
  if (!v) return <p class="empty">{t("visit.unknown")}</p>;
  const save = (fields: Record<string, unknown>) => void edit("visit", v.id, fields);
  const orderText = v.order_value_minor === null || v.order_value_minor === undefined ? "" : (v.order_value_minor / 10 ** digits).toFixed(digits);
  const addFollowUp = async () => {
    const text = followText.trim();
    // The time is read in the zone the screen names (the user's, else the organisation's), not the phone's.
    const due = zonedInstant(followDue, zone);
    if (!text || !due) {
      setSaved(t("log.follow_up_invalid"));
      return;
    }
    await edit(
      "reminder",
      uuidv7(),
      { text, due_at: due.toISOString(), store_id: v.store_id, visit_id: v.id, status: "pending", urgent: false },
      { create: true },
    );
    setFollowText("");
    setSaved(t("log.follow_up_saved"));
  };
  return (
    <div class="stack" data-testid="visit-log">
      <section class="card">
        <h2>{data.store?.name}</h2>
        <label for="outcome">{t("log.outcome")}</label>
        <select id="outcome" value={v.outcome ?? ""} onChange={(e) => save({ outcome: e.currentTarget.value || null })} data-testid="outcome">
          <option value="">{t("log.choose")}</option>
          {OUTCOMES.map((o) => <option value={o}>{t(`outcome.${o}`)}</option>)}
        </select>
        <label for="order">{t("log.order_value", { currency })}</label>
        <input id="order" inputMode="decimal" value={orderText} data-testid="order-value"
          onChange={(e) => {
            const raw = e.currentTarget.value.trim().replace(",", ".");
            if (raw === "") return save({ order_value_minor: null });
            const value = Number(raw);
            if (Number.isFinite(value) && value >= 0) save({ order_value_minor: Math.round(value * 10 ** digits) });
          }} />
        <label for="notes">{t("log.notes")}</label>
        <SavedText id="notes" multiline maxLength={5000} value={v.notes ?? ""} onSave={(notes) => save({ notes })} testid="notes" />
        <label for="next">{t("log.next_steps")}</label>
        <SavedText id="next" multiline maxLength={5000} value={v.next_steps ?? ""} onSave={(next_steps) => save({ next_steps })} testid="next-steps" />
      </section>
      <section class="card">
        <h3>{t("log.follow_up")}</h3>
        <label for="follow-text">{t("log.follow_up_text")}</label>
        <input id="follow-text" maxLength={1000} value={followText} onInput={(e) => setFollowText(e.currentTarget.value)} data-testid="follow-up-text" />
        <label for="follow-due">{t("log.follow_up_due")}</label>
        <input id="follow-due" type="datetime-local" value={followDue} onInput={(e) => setFollowDue(e.currentTarget.value)} data-testid="follow-up-due" />
        <div class="actions">
          <button onClick={addFollowUp} disabled={!followText.trim()} data-testid="add-follow-up">{t("log.add_follow_up")}</button>
        </div>
        {saved && <p class="muted" role="status">{saved}</p>}
        <p class="muted">{t("log.time_zone", { zone })}</p>
      </section>
      <div class="actions">
        <button class="primary" onClick={() => navigate(`/visits/${v.id}`)} data-testid="log-done">{t("log.done")}</button>
      </div>
    </div>
  );
}
