// HTTP to the Fieldbook server. Errors carry the server's problem details (docs/api.md, "Errors").
import { getMeta } from "./db/db";

export interface Problem {
  status: number;
  code: string;
  title: string;
  detail: string;
  errors?: { field: string; message: string }[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | null,
  ) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
  }
  get code(): string {
    return this.problem?.code ?? `http.${this.status}`;
  }
}

/** No answer at all: offline, DNS, a cut connection. Retried later; never shown as the server's refusal. */
export class NetworkError extends Error {}

export interface Session {
  token: string;
  expiresAt: string;
  clientId: string;
  user: User;
  org: Organization | null;
}

export interface User {
  id: string;
  email: string;
  name: string;
  role: "rep" | "supervisor" | "admin";
  time_zone: string | null;
  locale: string | null;
}

export interface Organization {
  id: string;
  name: string;
  time_zone: string;
  locale: string;
  currency: string;
}

export const API = "/api/v1";

export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  init: { token?: string | null; signal?: AbortSignal; raw?: BodyInit; contentType?: string } = {},
): Promise<T> {
  const token = init.token === undefined ? (await getMeta<Session>("session"))?.token : init.token;
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload: BodyInit | undefined;
  if (init.raw !== undefined) {
    payload = init.raw;
    headers["Content-Type"] = init.contentType ?? "application/octet-stream";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  let response: Response;
  try {
    response = await fetch(API + path, { method, headers, body: payload, signal: init.signal, cache: "no-store" });
  } catch (err) {
    if ((err as Error).name === "AbortError") throw err;
    throw new NetworkError((err as Error).message);
  }
  if (!response.ok) {
    let problem: Problem | null = null;
    try {
      problem = (await response.json()) as Problem;
    } catch {
      problem = null;
    }
    // A proxy or captive portal answering 502/503/504 is no answer from Fieldbook: retry later.
    if (problem === null && response.status >= 500) throw new NetworkError(`HTTP ${response.status}`);
    throw new ApiError(response.status, problem);
  }
  if (response.status === 204 || method === "HEAD") return undefined as T;
  return (await response.json()) as T;
}
