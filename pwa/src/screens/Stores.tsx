import { useState } from "preact/hooks";
import { stores, type Store } from "../data";
import { useLive } from "../hooks";
import { t } from "../i18n";
import { Link } from "../router";

/** Every store assigned to the rep, searchable: for an unplanned visit. */
export function Stores() {
  const [q, setQ] = useState("");
  const all = useLive(async () => (await stores()).filter((s) => s.active !== false).sort((a, b) => a.name.localeCompare(b.name)), [], [] as Store[]);
  const needle = q.trim().toLowerCase();
  const shown = needle
    ? all.filter((s) => `${s.name} ${s.code} ${s.address} ${s.district} ${s.chain ?? ""}`.toLowerCase().includes(needle))
    : all;
  return (
    <div>
      <input type="search" placeholder={t("stores.search")} value={q} onInput={(e) => setQ(e.currentTarget.value)} aria-label={t("stores.search")} />
      <p class="muted">{t("stores.count", { n: shown.length })}</p>
      <div class="card">
        {shown.slice(0, 200).map((s) => (
          <Link href={`/stores/${s.id}`} class="stop" testid="store-link">
            <span class="grow">
              <b>{s.name}</b>
              <br />
              <span class="muted">{s.code} · {s.address}</span>
            </span>
          </Link>
        ))}
        {shown.length === 0 && <p class="empty">{t("stores.none")}</p>}
      </div>
    </div>
  );
}
