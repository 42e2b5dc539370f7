import { describe, expect, it } from 'vitest';
import { render, screen, fireEvent } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { MemoryRouter } from 'react-router-dom';
import '../i18n';
import ImportErrors from '../components/ImportErrors';
import Login from '../pages/Login';

describe('ImportErrors', () => {
  it('renders one table row per error with row, column and the translated code', () => {
    render(<ImportErrors errors={[
      { row: 9, column: '出生日期', code: 'invalid_format', message: 'write the date as 2012-03-05' },
      { row: 12, column: '学号', code: 'duplicate', message: 'student number 1 already appears in row 3' },
    ]} />);
    const rows = screen.getByTestId('import-errors').querySelectorAll('tbody tr');
    expect(rows).toHaveLength(2);
    expect(rows[0].textContent).toContain('9');
    expect(rows[0].textContent).toContain('出生日期');
    expect(rows[0].textContent).toContain('格式不正确');
    expect(rows[1].textContent).toContain('重复');
  });
});

describe('Login form', () => {
  it('requires a username and a password before calling the server', { timeout: 20000 }, async () => {
    render(
      <QueryClientProvider client={new QueryClient()}>
        <MemoryRouter><Login /></MemoryRouter>
      </QueryClientProvider>,
    );
    fireEvent.click(screen.getByTestId('login-submit'));
    expect(await screen.findByText('请输入用户名', {}, { timeout: 10000 })).toBeTruthy();
    expect(await screen.findByText('请输入密码', {}, { timeout: 10000 })).toBeTruthy();
  });
});
