// The counseling mailbox (心理辅导信箱): a student writes anonymously on the school's public
// page, the counselor answers, the student reads the answer with the reply code.
import { check, loggedIn, stamp } from '../scenarios.mjs';

export const scenarios = [
  ['mailbox-anonymous-answer', async (page) => {
    await loggedIn(page, 'counselor.s1');
    await page.getByTestId('nav-mailbox').click();
    const link = (await page.getByText(/\/mailbox\/[0-9a-f-]{36}/).first().innerText()).trim();
    await page.getByTestId('logout').click();
    await page.getByTestId('login-submit').waitFor();

    await page.goto(link);
    const text = `最近总是失眠，想找老师聊聊 ${stamp}`;
    await page.getByTestId('mailbox-body').fill(text);
    await page.getByTestId('mailbox-send').click();
    const code = (await page.getByTestId('mailbox-code').innerText()).trim();
    check(code.length >= 16, `reply code: ${code}`);

    await loggedIn(page, 'counselor.s1');
    await page.getByTestId('nav-mailbox').click();
    const msg = page.getByTestId('mailbox-message').filter({ hasText: text });
    await msg.getByText('匿名').waitFor();
    await msg.getByTestId('mailbox-answer').click();
    const answer = `欢迎周三下午来心理辅导室 ${stamp}`;
    await page.getByTestId('mailbox-answer-text').fill(answer);
    await page.locator('.ant-modal:visible .ant-btn-primary').click();
    await page.getByText('已回信').first().waitFor();
    await page.getByTestId('logout').click();
    await page.getByTestId('login-submit').waitFor();

    await page.goto(link);
    const lookup = page.locator('input[data-testid="mailbox-lookup"], [data-testid="mailbox-lookup"] input').first();
    await lookup.fill(code);
    await lookup.press('Enter');
    await page.getByTestId('mailbox-reply').getByText(answer).waitFor();
  }],
];
