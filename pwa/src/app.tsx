import { useEffect, useState } from "preact/hooks";
import { db } from "./db/db";
import { useLang, useLive, useSession } from "./hooks";
import { t } from "./i18n";
import { match, navigate, useRoute } from "./router";
import { CheckIn } from "./screens/CheckIn";
import { InspectionScreen } from "./screens/Inspection";
import { Login } from "./screens/Login";
import { ReminderScreen, Reminders } from "./screens/Reminders";
import { Settings } from "./screens/Settings";
import { StoreScreen } from "./screens/Store";
import { Stores } from "./screens/Stores";
import { Today } from "./screens/Today";
import { VisitLog } from "./screens/VisitLog";
import { VisitScreen } from "./screens/Visit";
import { installPhotoUploads } from "./photos";
import { refreshSubscription } from "./push";
import { afterEachSync, startBackgroundSync } from "./sync/client";
import { refreshRules } from "./session";
import { applyUpdate, onUpdateReady } from "./sw-register";
import { SyncIndicator } from "./ui/SyncIndicator";

let hooksInstalled = false;

function installSyncHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  installPhotoUploads();
  let subscriptionSent = false;
  afterEachSync(async () => {
    if (subscriptionSent) return;
    subscriptionSent = true;
    await refreshSubscription();
  });
  let lastRules = 0;
  afterEachSync(async () => {
    if (Date.now() - lastRules < 10 * 60_000) return;
    lastRules = Date.now();
    await refreshRules();
  });
}

interface Route {
  pattern: string;
  title: string;
  render: (params: Record<string, string>) => preact.JSX.Element;
}

const ROUTES: Route[] = [
  { pattern: "/", title: "nav.today", render: () => <Today /> },
  { pattern: "/stores", title: "nav.stores", render: () => <Stores /> },
  { pattern: "/stores/:id", title: "store.title", render: (p) => <StoreScreen id={p.id!} /> },
  { pattern: "/stores/:id/check-in", title: "checkin.title", render: (p) => <CheckIn storeId={p.id!} /> },
  { pattern: "/visits/:id", title: "visit.title", render: (p) => <VisitScreen id={p.id!} /> },
  { pattern: "/visits/:id/check-out", title: "checkout.title", render: (p) => <CheckIn visitId={p.id!} checkOut /> },
  { pattern: "/visits/:id/inspection", title: "inspection.title", render: (p) => <InspectionScreen visitId={p.id!} /> },
  { pattern: "/visits/:id/log", title: "log.title", render: (p) => <VisitLog visitId={p.id!} /> },
  { pattern: "/reminders", title: "nav.reminders", render: () => <Reminders /> },
  { pattern: "/reminders/:id", title: "reminder.title", render: (p) => <ReminderScreen id={p.id!} /> },
  { pattern: "/settings", title: "nav.settings", render: () => <Settings /> },
];

export function App() {
  const session = useSession();
  useLang();
  const path = useRoute();
  const loggedIn = Boolean(session);
  useEffect(() => {
    if (!loggedIn) return;
    installSyncHooks();
    return startBackgroundSync();
  }, [loggedIn]);
  if (session === undefined) return <div class="splash" />;
  if (session === null) return <Login />;
  let screen: preact.JSX.Element | null = null;
  let title = "app.name";
  for (const route of ROUTES) {
    const params = match(route.pattern, path);
    if (params) {
      screen = route.render(params);
      title = route.title;
      break;
    }
  }
  if (!screen) screen = <NotFound />;
  return (
    <div class="app">
      <header class="top">
        {path !== "/" && (
          <button class="back" aria-label={t("nav.back")} onClick={() => history.length > 1 ? history.back() : navigate("/")}>
            ‹
          </button>
        )}
        <h1>{t(title)}</h1>
        <SyncIndicator />
      </header>
      <UpdateBanner />
      <SessionBanner />
      <RejectedBanner />
      <main>{screen}</main>
      <Nav path={path} />
    </div>
  );
}

function NotFound() {
  return <p class="empty">{t("app.not_found")}</p>;
}

function UpdateBanner() {
  const [ready, setReady] = useState(false);
  useEffect(() => onUpdateReady(setReady), []);
  if (!ready) return null;
  return (
    <div class="banner info" role="status" data-testid="update-banner">
      <span>{t("app.update_ready")}</span>
      <button onClick={applyUpdate}>{t("app.reload")}</button>
    </div>
  );
}

function SessionBanner() {
  const status = useLive(async () => (await db.meta.get("syncStatus"))?.v as { state?: string } | undefined, [], undefined);
  if (status?.state !== "login") return null;
  return (
    <div class="banner warn" role="alert">
      <span>{t("app.session_expired")}</span>
      <button onClick={() => navigate("/settings")}>{t("settings.login_again")}</button>
    </div>
  );
}

function RejectedBanner() {
  const count = useLive(() => db.rejected.count(), [], 0);
  if (count === 0) return null;
  return (
    <div class="banner error" role="alert" data-testid="rejected-banner">
      <span>{t("sync.rejected_count", { n: count })}</span>
      <button onClick={() => navigate("/settings")}>{t("sync.show")}</button>
    </div>
  );
}

function Nav({ path }: { path: string }) {
  const openReminders = useLive(
    async () => {
      const now = new Date().toISOString();
      const rows = await db.rows.where("t").equals("reminder").toArray();
      return rows.filter((r) => {
        const status = r.f.status?.v;
        const due = r.f.due_at?.v as string | undefined;
        return (r.cl ?? 0) % 2 === 1 && status !== "dismissed" && status !== "withdrawn" && (due ?? "") <= now;
      }).length;
    },
    [],
    0,
  );
  const items: [string, string, string][] = [
    ["/", "nav.today", "◷"],
    ["/stores", "nav.stores", "⌂"],
    ["/reminders", "nav.reminders", "✉"],
    ["/settings", "nav.settings", "⚙"],
  ];
  return (
    <nav class="bottom">
      {items.map(([href, label, icon]) => {
        const active = href === "/" ? path === "/" : path.startsWith(href);
        return (
          <a
            href={href}
            class={active ? "active" : ""}
            data-testid={`nav-${href.slice(1) || "today"}`}
            onClick={(e) => {
              e.preventDefault();
              navigate(href);
            }}
          >
            <span class="icon" aria-hidden="true">{icon}</span>
            <span>{t(label)}</span>
            {href === "/reminders" && openReminders > 0 && <span class="badge">{openReminders}</span>}
          </a>
        );
      })}
    </nav>
  );
}
