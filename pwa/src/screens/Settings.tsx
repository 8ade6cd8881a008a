import { useEffect, useState } from "preact/hooks";
import { ApiError, NetworkError } from "../api";
import { db, type RejectedEntry } from "../db/db";
import { useLang, useLive, useSession } from "../hooks";
import { LANGS, formatDateTime, setLang, t } from "../i18n";
import { currentSubscription, disablePush, enablePush, pushSupport } from "../push";
import { login, logout, pendingChanges } from "../session";
import { requestSync, syncStatus, type SyncStatus } from "../sync/client";

export function Settings() {
  const session = useSession();
  const current = useLang();
  const info = useLive(
    async () => ({
      status: await syncStatus(),
      outbox: await db.outbox.count(),
      photos: await db.photos.where("uploaded").equals(0).count(),
      rejected: await db.rejected.orderBy("id").reverse().limit(50).toArray(),
    }),
    [],
    { status: undefined as SyncStatus | undefined, outbox: 0, photos: 0, rejected: [] as RejectedEntry[] },
  );
  const [persisted, setPersisted] = useState<boolean | null>(null);
  const [pushState, setPushState] = useState<string>("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    void navigator.storage?.persisted?.().then(setPersisted);
    void currentSubscription().then((s) => setPushState(s ? "on" : "off"));
  }, []);
  const support = pushSupport();

  const turnOnPush = async () => {
    setBusy(true);
    try {
      const permission = await enablePush();
      setPushState(permission === "granted" ? "on" : permission);
    } catch (err) {
      setPushState(err instanceof NetworkError ? "offline" : `error:${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  const doLogout = async () => {
    await requestSync();
    const pending = await pendingChanges();
    if (pending > 0 && !confirm(t("settings.logout_pending", { n: pending }))) return;
    await logout();
    location.assign("/");
  };

  return (
    <div class="stack" data-testid="settings">
      <section class="card">
        <h2>{t("settings.language")}</h2>
        <div class="segmented">
          {LANGS.map((l) => (
            <button class={l === current ? "on" : ""} onClick={() => setLang(l)} data-testid={`lang-${l}`}>
              {l === "en" ? "English" : "简体中文"}
            </button>
          ))}
        </div>
      </section>
      <section class="card" data-testid="sync-status">
        <h2>{t("settings.sync")}</h2>
        <p>
          {t("sync.pending", { n: info.outbox })}
          {info.photos > 0 && ` · ${t("sync.photos_waiting", { n: info.photos })}`}
        </p>
        <p class="muted">
          {info.status?.lastSuccessAt ? t("sync.last", { when: formatDateTime(info.status.lastSuccessAt) }) : t("sync.never")}
        </p>
        {info.status?.error && <p class="error-text">{info.status.error}</p>}
        <div class="actions">
          <button class="primary" onClick={() => void requestSync()} disabled={info.status?.state === "syncing"} data-testid="sync-now">
            {info.status?.state === "syncing" ? t("sync.syncing") : t("sync.now")}
          </button>
        </div>
        {info.rejected.length > 0 && (
          <div data-testid="rejected-list">
            <h3>{t("sync.rejected_title")}</h3>
            {info.rejected.map((r) => (
              <div class="item">
                <b>{t(`table.${r.change.table}`)}</b> · {r.field ?? r.change.column}
                <br />
                <span class="error-text">{r.message || r.code}</span>
                <br />
                <span class="muted">{r.code}</span>
              </div>
            ))}
            <div class="actions">
              <button onClick={() => void db.rejected.clear()} data-testid="clear-rejected">{t("sync.rejected_seen")}</button>
            </div>
          </div>
        )}
        <p class="muted">{persisted === true ? t("settings.storage_persisted") : t("settings.storage_best_effort")}</p>
      </section>
      <section class="card">
        <h2>{t("settings.notifications")}</h2>
        {support === "needs-install" && <p data-testid="ios-install-hint">{t("settings.ios_install")}</p>}
        {support === "unsupported" && <p class="muted">{t("settings.push_unsupported")}</p>}
        {support === "supported" && (
          <>
            <p class="muted">{pushState ? t(`settings.push_${pushState.startsWith("error") ? "error" : pushState}`) : ""}</p>
            <div class="actions">
              {pushState === "on" ? (
                <button onClick={() => void disablePush().then(() => setPushState("off"))}>{t("settings.push_disable")}</button>
              ) : (
                <button class="primary" onClick={turnOnPush} disabled={busy} data-testid="enable-push">{t("settings.push_enable")}</button>
              )}
            </div>
          </>
        )}
      </section>
      <section class="card">
        <h2>{t("settings.account")}</h2>
        <p>
          {session?.user.name} · {session?.user.email}
          <br />
          <span class="muted">{session?.org?.name} · {t(`role.${session?.user.role ?? "rep"}`)}</span>
        </p>
        {info.status?.state === "login" && session && <LoginAgain email={session.user.email} />}
        <div class="actions">
          <button class="danger" onClick={doLogout} data-testid="logout">{t("settings.logout")}</button>
        </div>
      </section>
    </div>
  );
}

function LoginAgain({ email }: { email: string }) {
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await login(email, password);
      await requestSync();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? t("login.wrong") : (err as Error).message);
    }
  };
  return (
    <form onSubmit={submit}>
      <p>{t("app.session_expired")}</p>
      <label for="again">{t("login.password")}</label>
      <input id="again" type="password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} autoComplete="current-password" />
      {error && <p class="error-text">{error}</p>}
      <div class="actions"><button class="primary" type="submit">{t("settings.login_again")}</button></div>
    </form>
  );
}
