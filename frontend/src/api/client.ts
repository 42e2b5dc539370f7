import type { FieldError, Page } from './types';

// ApiError carries an RFC 9457 problem returned by the server.
export class ApiError extends Error {
  status: number;
  type: string;
  title: string;
  detail?: string;
  errors: FieldError[];
  requestId?: string;

  constructor(status: number, body: Partial<{ type: string; title: string; detail: string; errors: FieldError[]; request_id: string }>) {
    super(body.detail || body.title || `HTTP ${status}`);
    this.status = status;
    this.type = body.type ?? 'about:blank';
    this.title = body.title ?? `HTTP ${status}`;
    this.detail = body.detail;
    this.errors = body.errors ?? [];
    this.requestId = body.request_id;
  }
}

let onUnauthorized: () => void = () => {};

// setUnauthorizedHandler registers what happens when any call answers 401 (go to login).
export function setUnauthorizedHandler(fn: () => void) {
  onUnauthorized = fn;
}

export function readCookie(name: string): string | undefined {
  const prefix = name + '=';
  for (const part of document.cookie.split(';')) {
    const c = part.trim();
    if (c.startsWith(prefix)) return decodeURIComponent(c.slice(prefix.length));
  }
  return undefined;
}

const safe = new Set(['GET', 'HEAD', 'OPTIONS']);

// api calls the Xinqiao API with the session cookie and, on state-changing requests,
// the CSRF token from the xq_csrf cookie. Problems become ApiError.
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  let payload: BodyInit | undefined;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (!safe.has(method)) {
    const token = readCookie('xq_csrf');
    if (token) headers['X-CSRF-Token'] = token;
  }
  const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { title: text };
    }
  }
  if (!res.ok) {
    if (res.status === 401 && path !== '/api/v1/auth/login') onUnauthorized();
    throw new ApiError(res.status, (data ?? {}) as object);
  }
  return data as T;
}

// isStatus tells whether an error is an API problem with one of the given statuses.
export function isStatus(e: unknown, ...statuses: number[]): e is ApiError {
  return e instanceof ApiError && statuses.includes(e.status);
}

// fetchAll follows a list's cursor (limit 200 per page) up to maxPages pages. truncated tells
// whether more items remained on the server.
export async function fetchAll<T>(path: string, maxPages = 10): Promise<{ items: T[]; truncated: boolean }> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < maxPages; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const page: Page<T> = await api<Page<T>>('GET', `${path}${sep}limit=200${cursor ? '&cursor=' + encodeURIComponent(cursor) : ''}`);
    items.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) return { items, truncated: false };
  }
  return { items, truncated: true };
}

export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

export type SearchParams = Record<string, string | number | boolean | undefined | null>;

// searchBody drops empty values from a search's JSON body.
export function searchBody(params: SearchParams): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') out[k] = v;
  }
  return out;
}

// search POSTs a search of a list (students, case files, users) to `${list}/search`: search
// terms such as names and student numbers never travel in an address.
export function search<T>(list: string, params: SearchParams, limit = 50, cursor?: string): Promise<Page<T>> {
  return api<Page<T>>('POST', `${list}/search`, searchBody({ ...params, limit, cursor }));
}
