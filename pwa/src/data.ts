// What the screens read from the local replica. Everything here works offline.
import type { Session } from "./api";
import type { Geofence } from "./geo/fence";
import { getMeta } from "./db/db";
import { getRow, liveRows, type Row } from "./db/replica";

export interface Store extends Row {
  code: string;
  name: string;
  chain: string | null;
  channel: string;
  address: string;
  district: string;
  city: string;
  lat: number;
  lng: number;
  geofence: Geofence;
  opening_hours: Record<string, [string, string][]> | null;
  visit_minutes: number;
  priority: number;
  active: boolean;
}

export type VisitState = "planned" | "checked_in" | "checked_out" | "skipped" | "missed";

export interface Visit extends Row {
  store_id: string;
  state: VisitState;
  planned?: boolean;
  planned_date?: string | null;
  planned_seq?: number | null;
  planned_arrival_at?: string | null;
  planned_departure_at?: string | null;
  check_in_at?: string | null;
  check_in_lat?: number | null;
  check_in_lng?: number | null;
  check_in_accuracy_m?: number | null;
  check_out_at?: string | null;
  verdict?: string | null;
  check_out_verdict?: string | null;
  flags?: { code: string; message: string }[];
  outcome?: string | null;
  notes?: string;
  next_steps?: string;
  order_value_minor?: number | null;
  skip_reason?: string | null;
}

export interface Reminder extends Row {
  user_id?: string;
  store_id?: string | null;
  visit_id?: string | null;
  kind?: "reminder" | "alert";
  text: string;
  due_at: string;
  status?: "pending" | "sent" | "dismissed" | "withdrawn";
  urgent?: boolean;
}

export interface Product extends Row {
  code: string;
  name: string;
  brand: string;
  category: string;
  pack_size: string;
  barcode: string | null;
  rrp_minor: number | null;
  own_brand: boolean;
  active: boolean;
}

/** The user's time zone, else the organisation's, else the phone's. */
export function timeZone(session: Session | null | undefined): string {
  return session?.user.time_zone ?? session?.org?.time_zone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** The calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function localDate(instant: Date | string | number, zone: string): string {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(new Date(instant));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}`;
}

export async function session(): Promise<Session | undefined> {
  return getMeta<Session>("session");
}

export async function stores(): Promise<Store[]> {
  return (await liveRows("store")) as Store[];
}

export async function store(id: string): Promise<Store | undefined> {
  return (await getRow("store", id)) as Store | undefined;
}

export async function visit(id: string): Promise<Visit | undefined> {
  return (await getRow("visit", id)) as Visit | undefined;
}

export async function visits(): Promise<Visit[]> {
  return (await liveRows("visit")) as Visit[];
}

/** The day's visits: planned for the day in route order, then the unplanned ones by check-in time. */
export function dayVisits(all: Visit[], day: string, zone: string): Visit[] {
  const ofDay = all.filter(
    (v) => v.planned_date === day || (v.check_in_at ? localDate(v.check_in_at, zone) === day : false),
  );
  const seq = (v: Visit) => (v.planned_seq ?? Number.MAX_SAFE_INTEGER);
  return ofDay.sort((a, b) => seq(a) - seq(b) || String(a.check_in_at ?? "").localeCompare(String(b.check_in_at ?? "")));
}

export function isDone(v: Visit): boolean {
  return v.state === "checked_in" || v.state === "checked_out";
}

export async function reminders(): Promise<Reminder[]> {
  return (await liveRows("reminder")) as Reminder[];
}

export function isOpen(r: Reminder): boolean {
  return r.status !== "dismissed" && r.status !== "withdrawn";
}

export async function products(): Promise<Product[]> {
  return (await liveRows("product")) as Product[];
}

/** Opening hours of a day of the week as text ("08:00–12:00, 14:00–20:00"), or null when closed. */
export function hoursOn(storeRow: Store, date: Date, zone: string): [string, string][] | null {
  if (!storeRow.opening_hours) return null;
  const day = new Intl.DateTimeFormat("en-US", { weekday: "short", timeZone: zone }).format(date).toLowerCase();
  return storeRow.opening_hours[day.slice(0, 3)] ?? [];
}

/** Milliseconds the time zone is ahead of UTC at an instant. */
function zoneOffsetMs(instant: number, zone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return wall - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant of a wall-clock time ("2026-11-24T09:00", as a datetime-local input gives it) in a time zone, not
 * in the phone's. Null when the text is not such a time. In a DST gap the time moves forward, as clocks do.
 */
export function zonedInstant(local: string, zone: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local);
  if (!m) return null;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  const first = wall - zoneOffsetMs(wall, zone);
  return new Date(wall - zoneOffsetMs(first, zone));
}

/** A date in a time zone plus `days`, at `time` ("09:00"), as a datetime-local value. */
export function zonedInput(days: number, time: string, zone: string, now = new Date()): string {
  const [y, mo, d] = localDate(now, zone).split("-").map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, mo - 1, d + days));
  return `${day.toISOString().slice(0, 10)}T${time}`;
}
