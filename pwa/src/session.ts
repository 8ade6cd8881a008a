// Logging in and out. The replica belongs to one user on one install: its client id (the `node` of its
// changes) is made at the first login and kept while the same user logs in again (an expired token does not
// cost the outbox). Logging out deletes the local data, after a warning when changes are not yet synced.
import { request, type Organization, type Session, type User } from "./api";
import { db, getMeta, setMeta } from "./db/db";
import { uuidv7 } from "./ids";

interface LoginResponse {
  access_token: string;
  token_type: string;
  expires_at: string;
  user: User;
}

export class OtherUserPending extends Error {}

export async function login(email: string, password: string): Promise<Session> {
  const answer = await request<LoginResponse>("POST", "/auth/login", { email, password }, { token: null });
  const owner = await getMeta<string>("owner");
  if (owner && owner !== answer.user.id) {
    // Another user's data is still here: only ever possible after a session expired without logging out.
    if ((await db.outbox.count()) > 0) throw new OtherUserPending();
    await clearLocalData();
  }
  const me = await request<{ user: User; organization: Organization }>("GET", "/me", undefined, {
    token: answer.access_token,
  });
  const clientId = (await getMeta<string>("clientId")) ?? `dev-${uuidv7()}`;
  const session: Session = {
    token: answer.access_token,
    expiresAt: answer.expires_at,
    clientId,
    user: me.user,
    org: me.organization,
  };
  await db.transaction("rw", db.meta, async () => {
    await setMeta("owner", answer.user.id);
    await setMeta("clientId", clientId);
    await setMeta("session", session);
  });
  await refreshRules(session.token).catch(() => undefined);
  return session;
}

/** Thresholds the phone applies offline: fence rules, inspection weights and targets. */
export async function refreshRules(token?: string): Promise<void> {
  const opts = token ? { token } : {};
  const [visitRules, inspectionRules, me] = await Promise.all([
    request<unknown>("GET", "/visit-rules", undefined, opts),
    request<unknown>("GET", "/inspection-rules", undefined, opts),
    request<{ user: User; organization: Organization }>("GET", "/me", undefined, opts),
  ]);
  await setMeta("visitRules", visitRules);
  await setMeta("inspectionRules", inspectionRules);
  const session = await getMeta<Session>("session");
  if (session) await setMeta("session", { ...session, user: me.user, org: me.organization });
}

export async function pendingChanges(): Promise<number> {
  return (await db.outbox.count()) + (await db.photos.where("uploaded").equals(0).count());
}

/** Forget everything local: the replica, the outbox, photos, the session. */
export async function clearLocalData(): Promise<void> {
  await db.transaction("rw", [db.rows, db.outbox, db.rejected, db.photos, db.meta], async () => {
    await Promise.all([db.rows.clear(), db.outbox.clear(), db.rejected.clear(), db.photos.clear(), db.meta.clear()]);
  });
}

export async function logout(): Promise<void> {
  try {
    const registration = await navigator.serviceWorker?.getRegistration();
    const subscription = await registration?.pushManager.getSubscription();
    if (subscription) {
      await request("DELETE", "/push/subscriptions", { endpoint: subscription.endpoint }).catch(() => undefined);
      await subscription.unsubscribe();
    }
  } catch {
    // offline or no push support: the server drops the subscription when the push service says it is gone
  }
  await clearLocalData();
}
