// Strings in English and Simplified Chinese. Each part of the app keeps its strings in its own module here
// (one object per language with the same keys; a test checks that both languages have every key).
// The language comes from the user's choice in settings, else the browser's languages.
import { common } from "./common";
import { inspection } from "./inspection";
import { visit } from "./visit";

export type Lang = "en" | "zh-CN";
export const LANGS: Lang[] = ["en", "zh-CN"];

type Table = Record<string, string>;
export const CATALOGUES: Record<string, { en: Table; "zh-CN": Table }> = { common, inspection, visit };

const merged: Record<Lang, Table> = { en: {}, "zh-CN": {} };
for (const part of Object.values(CATALOGUES)) {
  Object.assign(merged.en, part.en);
  Object.assign(merged["zh-CN"], part["zh-CN"]);
}

const STORAGE_KEY = "fieldbook.lang";

export function browserLang(languages: readonly string[] = navigator.languages ?? [navigator.language]): Lang {
  for (const tag of languages) {
    const lower = tag.toLowerCase();
    if (lower.startsWith("zh")) return "zh-CN";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === "en" || saved === "zh-CN") return saved;
  } catch {
    // storage disabled: fall back to the browser's languages
  }
  return typeof navigator === "undefined" ? "en" : browserLang();
}

let current: Lang = typeof localStorage === "undefined" ? "en" : initialLang();
const listeners = new Set<(lang: Lang) => void>();

export function lang(): Lang {
  return current;
}

export function setLang(next: Lang): void {
  current = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // not remembered; still switched for this session
  }
  if (typeof document !== "undefined") document.documentElement.lang = next;
  for (const listener of listeners) listener(next);
}

export function onLangChange(listener: (lang: Lang) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The string for `key` in the current language, with `{name}` placeholders filled in. */
export function t(key: string, params: Record<string, string | number> = {}): string {
  const text = merged[current][key] ?? merged.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name: string) => (name in params ? String(params[name]) : `{${name}}`));
}

export function locale(): string {
  return current === "zh-CN" ? "zh-CN" : "en-GB";
}

export function formatTime(iso: string | null | undefined, timeZone?: string): string {
  if (!iso) return "–";
  return new Date(iso).toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit", timeZone });
}

export function formatDateTime(iso: string | number | null | undefined, timeZone?: string): string {
  if (iso === null || iso === undefined) return "–";
  return new Date(iso).toLocaleString(locale(), {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZone,
  });
}

export function formatMoney(minor: number | null | undefined, currency: string): string {
  if (minor === null || minor === undefined) return "–";
  const digits = new Intl.NumberFormat(locale(), { style: "currency", currency }).resolvedOptions()
    .maximumFractionDigits ?? 2;
  return new Intl.NumberFormat(locale(), { style: "currency", currency }).format(minor / 10 ** digits);
}

export function currencyDigits(currency: string): number {
  return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  return new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 0 }).format(value);
}
