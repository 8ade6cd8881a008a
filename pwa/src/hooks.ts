import { liveQuery } from "dexie";
import { useEffect, useState } from "preact/hooks";
import { getMeta } from "./db/db";
import type { Session } from "./api";
import { lang, onLangChange, type Lang } from "./i18n";

/** A value read from IndexedDB that re-renders whenever what it read changes (in any tab). */
export function useLive<T>(query: () => Promise<T>, deps: unknown[], initial: T): T {
  const [value, setValue] = useState<{ v: T }>({ v: initial });
  useEffect(() => {
    const subscription = liveQuery(query).subscribe({
      next: (v) => setValue({ v }),
      error: (err) => console.error("live query failed", err),
    });
    return () => subscription.unsubscribe();
  }, deps);
  return value.v;
}

export function useSession(): Session | undefined | null {
  // undefined while loading, null when nobody is logged in
  return useLive(async () => (await getMeta<Session>("session")) ?? null, [], undefined as Session | undefined | null);
}

export function useLang(): Lang {
  const [value, setValue] = useState(lang());
  useEffect(() => onLangChange(setValue), []);
  return value;
}

export function useOnline(): boolean {
  const [online, setOnline] = useState(typeof navigator === "undefined" ? true : navigator.onLine);
  useEffect(() => {
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    window.addEventListener("online", on);
    window.addEventListener("offline", off);
    return () => {
      window.removeEventListener("online", on);
      window.removeEventListener("offline", off);
    };
  }, []);
  return online;
}
