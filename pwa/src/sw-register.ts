// Registers the service worker and tells the user when a new version is ready (the new worker waits until
// the user reloads, so a half-filled form is never swapped under them).
import { navigate } from "./router";
import { requestSync } from "./sync/client";

const listeners = new Set<(ready: boolean) => void>();
let waiting: ServiceWorker | null = null;

export function onUpdateReady(listener: (ready: boolean) => void): () => void {
  listeners.add(listener);
  listener(waiting !== null);
  return () => listeners.delete(listener);
}

function announce(worker: ServiceWorker): void {
  waiting = worker;
  for (const listener of listeners) listener(true);
}

export function applyUpdate(): void {
  if (!waiting) return;
  navigator.serviceWorker.addEventListener("controllerchange", () => location.reload(), { once: true });
  waiting.postMessage({ type: "skip-waiting" });
}

export function registerServiceWorker(): void {
  if (!("serviceWorker" in navigator)) return;
  void navigator.serviceWorker
    .register("/sw.js", { scope: "/" })
    .then((registration) => {
      if (registration.waiting && navigator.serviceWorker.controller) announce(registration.waiting);
      const watch = (installing: ServiceWorker | null) =>
        installing?.addEventListener("statechange", () => {
          if (installing.state === "installed" && navigator.serviceWorker.controller) announce(installing);
        });
      watch(registration.installing); // an update already installing when the page loaded
      registration.addEventListener("updatefound", () => watch(registration.installing));
      // Look for a new version when the app comes back to the foreground.
      document.addEventListener("visibilitychange", () => {
        if (document.visibilityState === "visible") void registration.update().catch(() => undefined);
      });
    })
    .catch((err) => console.warn("service worker not registered", err));
  // A notification click in the service worker asks an open window to show a screen.
  navigator.serviceWorker.addEventListener("message", (event: MessageEvent) => {
    const data = event.data as { type?: string; url?: string } | null;
    if (data?.type === "open" && typeof data.url === "string") {
      navigate(data.url);
      // The notification is about something the server just made: fetch it now rather than at the next tick.
      void requestSync();
    }
  });
}
