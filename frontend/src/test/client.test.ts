import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError, fetchAll, isStatus, query, search, setUnauthorizedHandler } from '../api/client';

function respond(status: number, body: unknown, contentType = 'application/json') {
  return vi.fn(async () => new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': contentType } }));
}

afterEach(() => {
  vi.unstubAllGlobals();
  document.cookie = 'xq_csrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT';
});

describe('api client', () => {
  it('POSTs searches to …/search: the term and the cursor travel in the body, never in the address', async () => {
    const fetch = respond(200, { items: [], next_cursor: null });
    vi.stubGlobal('fetch', fetch);
    await search('/api/v1/schools/s1/students', { q: '张三', homeroom_id: undefined, status: '', mine: true }, 20, 'sealed-cursor');
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/v1/schools/s1/students/search');
    expect(init.method).toBe('POST');
    expect(JSON.parse(String(init.body))).toEqual({ q: '张三', mine: true, limit: 20, cursor: 'sealed-cursor' });
    await search('/api/v1/districts/d1/users', { q: '' });
    const [url2, init2] = fetch.mock.calls[1] as unknown as [string, RequestInit];
    expect(url2).toBe('/api/v1/districts/d1/users/search');
    expect(JSON.parse(String(init2.body))).toEqual({ limit: 50 });
  });

  it('sends the CSRF token from the xq_csrf cookie on state-changing requests only', async () => {
    document.cookie = 'xq_csrf=token-123';
    const fetch = respond(200, { ok: true });
    vi.stubGlobal('fetch', fetch);
    await api('POST', '/api/v1/x', { a: 1 });
    await api('GET', '/api/v1/x');
    const [, post] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    const [, get] = fetch.mock.calls[1] as unknown as [string, RequestInit];
    expect((post.headers as Record<string, string>)['X-CSRF-Token']).toBe('token-123');
    expect((post.headers as Record<string, string>)['Content-Type']).toBe('application/json');
    expect(post.credentials).toBe('same-origin');
    expect((get.headers as Record<string, string>)['X-CSRF-Token']).toBeUndefined();
  });

  it('turns problem+json into an ApiError with field errors', async () => {
    vi.stubGlobal('fetch', respond(422, {
      type: 'urn:xinqiao:problem:invalid', title: 'Validation failed', status: 422, detail: 'the request is not valid',
      request_id: 'r1', errors: [{ field: 'code', code: 'invalid_format', message: 'bad' }],
    }, 'application/problem+json'));
    const err = (await api('POST', '/api/v1/x', {}).catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(422);
    expect(err.type).toBe('urn:xinqiao:problem:invalid');
    expect(err.errors[0].field).toBe('code');
    expect(err.requestId).toBe('r1');
  });

  it('calls the unauthorized handler on 401, except for the login call itself', async () => {
    const handler = vi.fn();
    setUnauthorizedHandler(handler);
    vi.stubGlobal('fetch', respond(401, { title: 'Authentication required', status: 401 }));
    await api('GET', '/api/v1/me').catch(() => {});
    expect(handler).toHaveBeenCalledTimes(1);
    await api('POST', '/api/v1/auth/login', {}).catch(() => {});
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it('sends FormData untouched for uploads', async () => {
    const fetch = respond(200, { total: 1 });
    vi.stubGlobal('fetch', fetch);
    const form = new FormData();
    form.append('file', new Blob(['a']), 'a.csv');
    await api('POST', '/api/v1/import', form);
    const [, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(init.body).toBe(form);
    expect((init.headers as Record<string, string>)['Content-Type']).toBeUndefined();
  });

  it('returns undefined for 204', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(null, { status: 204 })));
    expect(await api('DELETE', '/api/v1/x')).toBeUndefined();
  });

  it('builds query strings without empty values', () => {
    expect(query({ a: '1', b: '', c: undefined, d: null, e: 5 })).toBe('?a=1&e=5');
    expect(query({})).toBe('');
  });

  it('follows next_cursor through every page, with limit=200', async () => {
    const fetch = vi.fn(async (url: string) => {
      const cursor = new URL(url, 'http://x').searchParams.get('cursor');
      const body = cursor === null ? { items: [1, 2], next_cursor: 'c/2' } : cursor === 'c/2' ? { items: [3], next_cursor: null } : { items: [], next_cursor: null };
      return new Response(JSON.stringify(body), { status: 200 });
    });
    vi.stubGlobal('fetch', fetch);
    expect(await fetchAll<number>('/api/v1/schools/s/org-units')).toEqual({ items: [1, 2, 3], truncated: false });
    expect(fetch.mock.calls.map(([u]) => u)).toEqual(['/api/v1/schools/s/org-units?limit=200', '/api/v1/schools/s/org-units?limit=200&cursor=c%2F2']);
    const one = await fetchAll<number>('/api/v1/x?status=enrolled', 1);
    expect(one.truncated).toBe(true);
    expect(fetch.mock.calls[2][0]).toBe('/api/v1/x?status=enrolled&limit=200');
  });

  it('keeps the problem of a non-JSON error body', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('upstream timeout', { status: 502 })));
    const err = await api('GET', '/api/v1/x').catch((e: unknown) => e);
    expect(isStatus(err, 502)).toBe(true);
    expect((err as ApiError).title).toBe('upstream timeout');
  });
});
