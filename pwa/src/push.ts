// Web Push: subscribe with the server's VAPID key after a user gesture (docs/push.md).
import { request } from "./api";

export type PushSupport = "supported" | "unsupported" | "needs-install";

/** iOS and iPadOS deliver web push only to an app added to the home screen (Safari 16.4 and later). */
export function pushSupport(): PushSupport {
  const ios = /iPad|iPhone|iPod/.test(navigator.userAgent) || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  const standalone = matchMedia("(display-mode: standalone)").matches || (navigator as { standalone?: boolean }).standalone === true;
  if (ios && !standalone) return "needs-install";
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) return "unsupported";
  return "supported";
}

function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const padded = base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4);
  const raw = atob(padded);
  const bytes = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

export async function currentSubscription(): Promise<PushSubscription | null> {
  if (!("serviceWorker" in navigator)) return null;
  const registration = await navigator.serviceWorker.getRegistration();
  return (await registration?.pushManager.getSubscription()) ?? null;
}

/** Ask for permission (must run from a click), subscribe, and register the subscription with the server. */
export async function enablePush(): Promise<NotificationPermission> {
  const permission = await Notification.requestPermission();
  if (permission !== "granted") return permission;
  const { public_key } = await request<{ public_key: string }>("GET", "/push/key");
  const registration = await navigator.serviceWorker.ready;
  let subscription = await registration.pushManager.getSubscription();
  if (!subscription) {
    subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(public_key) });
  }
  await request("POST", "/push/subscriptions", { ...subscription.toJSON(), user_agent: navigator.userAgent.slice(0, 300) });
  return permission;
}

/**
 * Register this browser's subscription with the server again (once per start, after a sync): a POST that failed
 * offline, or a subscription left by another user of this browser, would otherwise never be delivered to.
 */
export async function refreshSubscription(): Promise<void> {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const subscription = await currentSubscription();
  if (!subscription) return;
  await request("POST", "/push/subscriptions", { ...subscription.toJSON(), user_agent: navigator.userAgent.slice(0, 300) });
}

export async function disablePush(): Promise<void> {
  const subscription = await currentSubscription();
  if (!subscription) return;
  await request("DELETE", "/push/subscriptions", { endpoint: subscription.endpoint }).catch(() => undefined);
  await subscription.unsubscribe();
}
