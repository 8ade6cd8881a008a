/// <reference lib="webworker" />
// The service worker: precaches the app shell so the app opens with no network at all, answers every app path
// with index.html (the router takes it from there), shows push notifications and opens the right screen when
// one is clicked. The API is never cached: the replica in IndexedDB is the offline data.
declare const self: ServiceWorkerGlobalScope;
declare const __PRECACHE__: { url: string; revision: string }[];
declare const __VERSION__: string;

const CACHE = `fieldbook-shell-${__VERSION__}`;
const SHELL = "/index.html";

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // Revisioned URLs so a CDN or the HTTP cache never hands an old file to a new worker.
      await Promise.all(
        __PRECACHE__.map(async ({ url, revision }) => {
          const response = await fetch(`${url}?__rev=${revision}`, { cache: "no-store" });
          if (!response.ok) throw new Error(`precache ${url}: ${response.status}`);
          await cache.put(url, response);
        }),
      );
      // The first install takes control at once; an update waits until the user reloads (see sw-register.ts).
      const clients = await self.clients.matchAll();
      if (clients.length === 0) await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith("fieldbook-shell-") && key !== CACHE) await caches.delete(key);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  if ((event.data as { type?: string } | null)?.type === "skip-waiting") void self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return; // map tiles: the network, or nothing
  if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/schema")) return;
  if (request.mode === "navigate") {
    event.respondWith(
      (async () => {
        const cache = await caches.open(CACHE);
        const shell = await cache.match(SHELL);
        if (shell) return shell;
        return fetch(request);
      })(),
    );
    return;
  }
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      const hit = await cache.match(url.pathname);
      return hit ?? fetch(request);
    })(),
  );
});

interface PushPayload {
  id: string;
  kind: string;
  title: string;
  body: string;
  url: string;
  tag: string;
  due_at: string;
  urgent: boolean;
  store_id: string | null;
}

self.addEventListener("push", (event) => {
  let payload: Partial<PushPayload> = {};
  try {
    payload = (event.data?.json() ?? {}) as Partial<PushPayload>;
  } catch {
    payload = { title: "Fieldbook", body: event.data?.text() ?? "" };
  }
  // Only a path of this app: never "//host" (another site) nor the API.
  const url = typeof payload.url === "string" && /^\/(?![/\\])/.test(payload.url) && !payload.url.startsWith("/api/") ? payload.url : "/reminders";
  event.waitUntil(
    self.registration.showNotification(payload.title || "Fieldbook", {
      ...({ renotify: Boolean(payload.tag ?? payload.id) } as NotificationOptions), // a reminder sent again (snoozed) replaces the earlier notification and rings again; renotify is not in TypeScript's DOM types yet
      body: payload.body ?? "",
      tag: payload.tag ?? (payload.id ? `reminder-${payload.id}` : undefined),
      icon: "/icons/icon-192.png",
      badge: "/icons/badge-72.png",
      requireInteraction: Boolean(payload.urgent),
      data: { url, id: payload.id ?? null },
    }),
  );
});

/** Show `url` in an open window of the app (it navigates itself), else open a new one. */
async function openScreen(url: string): Promise<void> {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const client = windows.find((c) => {
    const where = new URL(c.url);
    return where.origin === self.location.origin && !where.pathname.startsWith("/api/") && !where.pathname.startsWith("/schema");
  });
  if (client) {
    client.postMessage({ type: "open", url });
    await client.focus().catch(() => undefined);
    return;
  }
  await self.clients.openWindow(url);
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data as { url?: string } | null)?.url ?? "/reminders";
  event.waitUntil(openScreen(url));
});

// A module for TypeScript (the declarations above stay local); the build emits a plain script.
export {};
