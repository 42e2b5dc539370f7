import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { MemoryRouter } from 'react-router-dom';
import { App as AntApp } from 'antd';
import i18n from '../i18n';
import ImportErrors from '../components/ImportErrors';
import ProblemAlert from '../components/ProblemAlert';
import Login, { loginMessage } from '../pages/Login';
import { ImportDialog, importOutcome } from '../pages/Students';
import { ApiError } from '../api/client';
import { SessionProvider } from '../session';

function json(status: number, body: unknown) {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' },
  });
}

function wrap(ui: React.ReactNode) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={qc}>
      <AntApp>
        <MemoryRouter future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
          <SessionProvider>{ui}</SessionProvider>
        </MemoryRouter>
      </AntApp>
    </QueryClientProvider>,
  );
}

beforeEach(async () => {
  await i18n.changeLanguage('zh-CN');
});
afterEach(() => vi.unstubAllGlobals());

describe('ImportErrors', () => {
  it('renders one table row per error with row, column and the translated code', () => {
    render(<ImportErrors errors={[
      { row: 9, column: '出生日期', code: 'invalid_format', message: 'write the date as 2012-03-05' },
      { row: 12, column: '学号', code: 'duplicate', message: 'student number 1 already appears in row 3' },
      { row: 1, column: '班级', code: 'missing_column', message: 'the column 班级 is missing' },
    ]} />);
    const table = screen.getByTestId('import-errors');
    const headers = [...table.querySelectorAll('thead th')].map((th) => th.textContent);
    expect(headers).toEqual(['行号', '列', '错误']);
    const rows = table.querySelectorAll('tbody tr');
    expect(rows).toHaveLength(3);
    const cells = (i: number) => [...rows[i].querySelectorAll('td')].map((td) => td.textContent);
    expect(cells(0)).toEqual(['9', '出生日期', '格式不正确（write the date as 2012-03-05）']);
    expect(cells(1)[2]).toContain('重复');
    expect(cells(2)[2]).toContain('缺少必需的列');
  });

  it('falls back to the server message for an unknown code', () => {
    render(<ImportErrors errors={[{ row: 4, column: '性别', code: 'brand_new_code', message: 'something new' }]} />);
    expect(screen.getByTestId('import-errors').querySelector('tbody tr')!.textContent).toContain('something new');
  });
});

describe('import outcome', () => {
  it('tells unsupported files, row errors and other problems apart', () => {
    expect(importOutcome(new ApiError(415, { title: 'Unsupported Media Type' })).kind).toBe('unsupported');
    const rows = importOutcome(new ApiError(422, { title: 'x', errors: [{ row: 3, column: '出生日期', code: 'invalid_format', message: 'm' }] }));
    expect(rows.kind).toBe('rows');
    expect(importOutcome(new ApiError(422, { title: 'x', errors: [{ field: 'file', code: 'required', message: 'm' }] })).kind).toBe('problem');
    expect(importOutcome(new ApiError(403, { title: 'Forbidden' })).kind).toBe('problem');
  });

  it('uploads the file as multipart with the CSRF token and shows the row error table on 422', async () => {
    document.cookie = 'xq_csrf=csrf-abc';
    const fetch = vi.fn(async (url: string, init?: RequestInit) => {
      if (url === '/api/v1/me') return json(401, { type: 'urn:xinqiao:problem:unauthenticated', title: 'Unauthorized', status: 401 });
      expect(init?.method).toBe('POST');
      expect(init?.body).toBeInstanceOf(FormData);
      expect((init?.headers as Record<string, string>)['X-CSRF-Token']).toBe('csrf-abc');
      return json(422, {
        type: 'urn:xinqiao:problem:validation', title: 'Validation failed', status: 422, request_id: 'r9',
        errors: [{ row: 3, column: '出生日期', code: 'invalid_format', message: 'write the date as 2012-03-05' }],
      });
    });
    vi.stubGlobal('fetch', fetch);
    wrap(<ImportDialog path="/api/v1/schools/s1/students/import" schoolId="s1" onClose={() => {}} />);
    const input = document.querySelector('input[type=file]') as HTMLInputElement;
    const file = new File(['学号,姓名\n'], 'roster_bad.csv', { type: 'text/csv' });
    await act(async () => {
      fireEvent.change(input, { target: { files: [file] } });
    });
    const submit = await screen.findByTestId('import-submit');
    await waitFor(() => expect((submit as HTMLButtonElement).disabled).toBe(false));
    await act(async () => {
      fireEvent.click(submit);
    });
    const table = await screen.findByTestId('import-errors');
    const cells = [...table.querySelectorAll('tbody tr td')].map((td) => td.textContent);
    expect(cells.slice(0, 2)).toEqual(['3', '出生日期']);
    expect(screen.getByTestId('import-failed').textContent).toContain('未导入任何学生');
    expect(fetch).toHaveBeenCalledWith('/api/v1/schools/s1/students/import', expect.anything());
    document.cookie = 'xq_csrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT';
  });
});

describe('ProblemAlert', () => {
  it('shows a localized heading, the server title and detail, field errors and the request id', () => {
    render(<ProblemAlert error={new ApiError(409, {
      title: 'Conflict', detail: 'the code is taken', request_id: 'req-7',
      errors: [{ field: 'code', code: 'duplicate', message: 'code szq-1 is taken' }],
    })} />);
    const alert = screen.getByTestId('problem');
    expect(alert.textContent).toContain('与现有数据冲突');
    expect(screen.getByTestId('problem-detail').textContent).toBe('Conflict — the code is taken');
    expect(screen.getByTestId('problem-field').textContent).toBe('code: 已存在，不能重复（code szq-1 is taken）');
    expect(alert.textContent).toContain('req-7');
  });

  it('leaves field errors to the form when the form shows that field', () => {
    render(<ProblemAlert formFields={['code']} error={new ApiError(422, {
      title: 'Validation failed', errors: [{ field: 'code', code: 'invalid_format', message: 'bad' }],
    })} />);
    expect(screen.queryByTestId('problem-field')).toBeNull();
  });
});

describe('Login form', () => {
  it('requires a username and a password before calling the server', { timeout: 20000 }, async () => {
    const fetch = vi.fn(async (_url: string) => json(401, { title: 'Unauthorized', status: 401 }));
    vi.stubGlobal('fetch', fetch);
    wrap(<Login />);
    fireEvent.click(screen.getByTestId('login-submit'));
    expect(await screen.findByText('请输入用户名', {}, { timeout: 10000 })).toBeTruthy();
    expect(await screen.findByText('请输入密码', {}, { timeout: 10000 })).toBeTruthy();
    expect(fetch.mock.calls.filter(([url]) => String(url).includes('/auth/login'))).toHaveLength(0);
  });

  it('shows the same generic message for any refused login and a throttling message on 429', { timeout: 20000 }, async () => {
    let loginStatus = 401;
    vi.stubGlobal('fetch', vi.fn(async (url: string) =>
      url === '/api/v1/auth/login'
        ? json(loginStatus, { title: loginStatus === 429 ? 'Too Many Requests' : 'Invalid credentials', status: loginStatus })
        : json(401, { title: 'Unauthorized', status: 401 })));
    wrap(<Login />);
    fireEvent.change(screen.getByTestId('username'), { target: { value: 'leader.s1' } });
    fireEvent.change(screen.getByTestId('password'), { target: { value: 'wrong-password' } });
    fireEvent.click(screen.getByTestId('login-submit'));
    expect((await screen.findByTestId('login-error', {}, { timeout: 10000 })).textContent).toBe('用户名或密码错误');
    loginStatus = 429;
    fireEvent.click(screen.getByTestId('login-submit'));
    await waitFor(() => expect(screen.getByTestId('login-error').textContent).toBe('尝试次数过多，请稍后再试'), { timeout: 10000 });
  });

  it('maps statuses to message keys', () => {
    expect(loginMessage(new ApiError(401, { title: 'x' }))).toBe('login.failed');
    expect(loginMessage(new ApiError(429, { title: 'x' }))).toBe('login.locked');
    expect(loginMessage(new ApiError(503, { title: 'x' }))).toBe('login.unavailable');
    expect(loginMessage(new TypeError('Failed to fetch'))).toBe('login.unavailable');
  });
});
