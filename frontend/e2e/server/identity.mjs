// Identity hardening: a new district supervisor enrols in two-step verification on the
// account security page (QR code, first code, recovery codes shown once), then signs in
// with password + authenticator code, then with a recovery code; the district
// administrator resets the user's MFA in the users screen.
import crypto from 'node:crypto';
import { check, choose, loggedIn, login, stamp } from '../scenarios.mjs';

function base32(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of s.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const out = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(out);
}

// totp computes the RFC 6238 code (SHA-1, 6 digits, 30 s) of a base32 secret at t.
function totp(secret, t = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 1000 / 30)));
  const h = crypto.createHmac('sha1', base32(secret)).update(counter).digest();
  const o = h[h.length - 1] & 15;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1e6).padStart(6, '0');
}

async function signedIn(page) {
  const nav = page.getByTestId('nav');
  const refused = page.getByTestId('mfa-error');
  await nav.or(refused).first().waitFor();
  if (await refused.isVisible()) throw new Error(`second step refused: ${await refused.innerText()}`);
}

export const scenarios = [
  ['mfa-enrol-two-step-login-recovery-and-reset', async (page) => {
    const username = `mfa.${stamp}`;
    const pw = 'a-long-enough-password';
    await loggedIn(page, 'district.admin');
    await page.getByTestId('nav-users').click();
    await page.getByTestId('users-table').locator('tbody tr.ant-table-row').first().waitFor();
    await page.getByTestId('user-new').click();
    await page.getByTestId('new-username').fill(username);
    await page.getByTestId('new-display-name').fill('两步验证用户');
    await page.getByTestId('new-password').fill(pw);
    await page.getByTestId('user-ok').click();
    await page.getByTestId('memberships-table').waitFor();
    await choose(page, 'grant-role', '督导');
    await page.getByTestId('grant-submit').click();
    await page.getByTestId('memberships-table').getByText('督导').waitFor();
    await page.keyboard.press('Escape');
    await page.getByTestId('logout').click();

    // Enrolment on the account security page.
    await login(page, username, pw);
    await page.getByTestId('nav').waitFor();
    await page.getByTestId('nav-security').click();
    await page.getByTestId('mfa-off').waitFor();
    await page.getByTestId('security-enrol').click();
    await page.getByTestId('mfa-enrol-start').click();
    await page.getByTestId('mfa-qr').waitFor();
    const secret = ((await page.getByTestId('mfa-secret').textContent()) ?? '').match(/[A-Z2-7]{16,}/)?.[0];
    check(!!secret, 'no TOTP secret shown');
    await page.getByTestId('mfa-enrol-code').fill(totp(secret));
    await page.getByTestId('mfa-enrol-confirm').click();
    const shown = await page.getByTestId('recovery-codes').locator('pre').innerText();
    const codes = shown.split(/\s+/).filter((c) => /^[a-z2-9]{5}-[a-z2-9]{5}$/.test(c));
    check(codes.length === 10, `want 10 recovery codes, got ${codes.length}`);
    await page.getByTestId('recovery-saved').click();
    await page.getByTestId('mfa-on').waitFor();
    await page.getByTestId('sessions-table').locator('tbody tr.ant-table-row').first().waitFor();
    await page.getByTestId('logout').click();

    // Password, then the authenticator's next code (the enrolment code is spent).
    await login(page, username, pw);
    await page.getByTestId('mfa-step').waitFor();
    await page.getByTestId('mfa-code').fill(totp(secret, Date.now() + 30_000));
    await page.getByTestId('mfa-submit').click();
    await signedIn(page);
    await page.getByTestId('logout').click();

    // Password, then a recovery code.
    await login(page, username, pw);
    await page.getByTestId('mfa-toggle').click();
    await page.getByTestId('mfa-recovery').fill(codes[0]);
    await page.getByTestId('mfa-submit').click();
    await signedIn(page);
    await page.getByTestId('logout').click();

    // The administrator resets the user's MFA: the password alone works again.
    await loggedIn(page, 'district.admin');
    await page.getByTestId('nav-users').click();
    await page.getByTestId('user-search').fill(username);
    await page.getByTestId('user-search').press('Enter');
    await page.getByTestId(`memberships-${username}`).click();
    await page.getByTestId('user-security').getByText('已启用').waitFor();
    await page.getByTestId('mfa-reset').click();
    await page.locator('.ant-popconfirm-buttons .ant-btn-primary:visible').click();
    await page.getByTestId('user-security').getByText('未启用').waitFor();
    await page.locator('.ant-drawer-close:visible').click();
    await page.getByTestId('memberships-drawer').waitFor({ state: 'hidden' });
    await page.getByTestId('logout').click();
    await login(page, username, pw);
    await page.getByTestId('nav').waitFor();
  }],
];
