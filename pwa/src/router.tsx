// A small router over the History API: the server answers every app path with index.html (and the service
// worker does too, offline), so /stores/<id> or /reminders/<id> open directly from a link or a notification.
import { useEffect, useState } from "preact/hooks";

const listeners = new Set<() => void>();

export function currentPath(): string {
  return location.pathname;
}

export function navigate(to: string, replace = false): void {
  if (to === location.pathname + location.search) return;
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  for (const listener of listeners) listener();
  window.scrollTo(0, 0);
}

if (typeof window !== "undefined") {
  window.addEventListener("popstate", () => {
    for (const listener of listeners) listener();
  });
}

export function useRoute(): string {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const update = () => setPath(currentPath());
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return path;
}

/** `match("/stores/:id", "/stores/42")` is `{id: "42"}`; null when the path does not fit. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/").filter(Boolean);
  const got = path.split("/").filter(Boolean);
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith(":")) params[w.slice(1)] = decodeURIComponent(g);
    else if (w !== g) return null;
  }
  return params;
}

export function Link(props: { href: string; class?: string; children: preact.ComponentChildren; testid?: string }) {
  return (
    <a
      href={props.href}
      class={props.class}
      data-testid={props.testid}
      onClick={(event) => {
        if (event.ctrlKey || event.metaKey || event.shiftKey) return;
        event.preventDefault();
        navigate(props.href);
      }}
    >
      {props.children}
    </a>
  );
}
