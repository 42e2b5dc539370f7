// Screening (心理测查) end to end: the district administrator creates a PHQ-9 campaign for
// the demo school; the counselor issues the code sheet of a homeroom; a student opens
// /s/<code> on a phone without an account, answers item 9 with 2 and sees only thanks;
// the counselor finds the alert in the queue and acknowledges it; the same code is then
// refused as already used.
import { check, choose, loggedIn, stamp } from '../scenarios.mjs';

async function switchUser(page, username) {
  await page.getByTestId('logout').click();
  await page.getByTestId('login-submit').waitFor();
  await loggedIn(page, username);
}

// pick chooses one option of an antd multiple Select and closes its dropdown.
async function pickMany(page, testId, text) {
  await choose(page, testId, text);
  await page.keyboard.press('Escape');
}

export const scenarios = [
  ['screening-code-critical-item-alert', async (page) => {
    const title = `端到端心理测查 ${stamp}`;

    // 1. The district administrator creates the campaign (PHQ-9, demo school, grade 7).
    await loggedIn(page, 'district.admin');
    await page.getByTestId('nav-campaigns').click();
    await page.getByTestId('campaigns-table').waitFor();
    await page.getByTestId('campaign-new').click();
    await page.getByTestId('campaign-title').fill(title);
    await pickMany(page, 'campaign-instruments', 'PHQ-9');
    await pickMany(page, 'campaign-schools', '示范区第一中学');
    await pickMany(page, 'campaign-grades', '七年级');
    await page.getByTestId('campaign-consent').getByText('无需家长同意').click();
    await page.getByTestId('campaign-message').fill('本次测查用于了解同学们近期的心理状况，结果严格保密。');
    await page.getByTestId('campaign-submit').click();
    const row = page.getByTestId('campaigns-table').locator('tbody tr').filter({ hasText: title });
    await row.waitFor();
    const status = (await row.getByTestId('campaign-status').innerText()).trim();
    check(status === '进行中', `a campaign opening now shows as ${status}`);

    // 2. The counselor opens it and prints the code sheet of 七(2)班 (the demo data answered
    //    sheets of 七(1)班 in its own campaign).
    await switchUser(page, 'counselor.s1');
    await page.getByTestId('nav-schoolCampaigns').click();
    await page.getByTestId('school-campaigns-table').locator('tbody tr').filter({ hasText: title }).click();
    await page.getByTestId('campaign-detail-title').filter({ hasText: title }).waitFor();
    await page.getByTestId('roster-table').waitFor();
    await choose(page, 'roster-homeroom', '七(2)班');
    await page.getByTestId('roster-table').locator('tbody tr.ant-table-row').first().waitFor();
    await page.getByTestId('codes-open').click();
    await page.getByTestId('codes-sheet').click();
    const slip = page.getByTestId('code-slip').first();
    await slip.waitFor();
    const code = (await slip.getByTestId('slip-code').innerText()).trim();
    const url = (await slip.getByTestId('slip-url').innerText()).trim();
    const slipText = await slip.innerText();
    check(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]+$/.test(code), `unexpected code on the slip: ${code}`);
    check(url.startsWith('http') && url.includes('/s/'), `unexpected address on the slip: ${url}`);
    const [student, number] = (await slip.locator('div').nth(1).innerText()).trim().split(/\s+/);
    check(!!student && !!number && slipText.includes(student), `the slip shows no student name and number: ${slipText}`);
    await page.locator('.ant-modal:visible .ant-modal-close').click();
    await page.getByTestId('code-sheet').waitFor({ state: 'detached' });

    // 3. A student answers on a phone, without an account, in a fresh browser context.
    const phone = await page.context().browser().newContext({ locale: 'zh-CN', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    phone.setDefaultTimeout(15_000);
    try {
      const sp = await phone.newPage();
      await sp.goto(url);
      await sp.getByTestId('screening-title').filter({ hasText: title }).waitFor();
      check(sp.url().includes('/s/'), `the student page went to ${sp.url()}`);
      check((await sp.getByTestId('nav').count()) === 0, 'the student page shows the app menu');
      const items = sp.getByTestId('q-item');
      check((await items.count()) === 9, `PHQ-9 shows ${await items.count()} items`);
      // Submitting with item 9 unanswered is refused on the page, naming the item.
      for (let i = 1; i <= 8; i++) await sp.locator(`[data-item="phq9.${i}"]`).getByText('完全不会', { exact: true }).click();
      await sp.getByTestId('screening-submit').click();
      await sp.locator('[data-item="phq9.9"][data-missing="true"]').waitFor();
      await sp.locator('[data-item="phq9.9"]').getByText('一半以上的天数', { exact: true }).click();
      const wide = await sp.evaluate(() => document.documentElement.scrollWidth);
      check(wide <= 390, `the questionnaire is wider than the phone: ${wide}px`);
      await sp.getByTestId('screening-submit').click();
      await sp.getByTestId('screening-thanks').waitFor();
      const thanks = await sp.locator('body').innerText();
      for (const word of ['总分', '得分', '分数', '等级', '中度', '重度', '轻度', '预警', 'PHQ']) {
        check(!thanks.includes(word), `the thank-you page shows "${word}": ${thanks}`);
      }

      // 4. The counselor sees the alert in the queue (same test) and acknowledges it.
      await page.getByTestId('nav-screeningAlerts').click();
      const mine = () => page.getByTestId('alerts-table').locator('tbody tr').filter({ hasText: student }).filter({ hasText: number });
      const alert = mine().first();
      await alert.waitFor();
      const reason = (await alert.getByTestId('alert-reason').innerText()).trim();
      check(reason === '关键题', `the alert reason is ${reason}`);
      await alert.getByTestId('alert-ack').click();
      await page.locator('.ant-modal:visible').getByText('持续关注').click();
      await page.getByTestId('ack-submit').click();
      await mine().getByTestId('alert-ack').waitFor({ state: 'detached' });
      await page.getByTestId('alert-filter').getByText('全部').click();
      const done = mine().first();
      const outcome = (await done.getByTestId('alert-acknowledged').innerText()).trim();
      check(outcome === '持续关注', `the acknowledged alert shows ${outcome}`);

      // 5. The code works once: opening it again says it was used.
      await sp.goto(url);
      const refused = sp.getByTestId('code-refused');
      await refused.waitFor();
      check((await refused.getAttribute('data-state')) === 'used', `a used code answers ${await refused.getAttribute('data-state')}`);
      const said = (await sp.getByTestId('code-refused-title').innerText()).trim();
      check(said === '这个作答码已经使用过了', `a used code says ${said}`);
    } finally {
      await phone.close().catch(() => {});
    }
  }],
  ['screening-instrument-editor', async (page) => {
    // The district administrator writes an instrument: the server validates it as it is
    // typed (a precise error per field), the preview shows it as a student sees it, and it
    // is saved as version 1.
    await loggedIn(page, 'district.admin');
    await page.getByTestId('nav-instruments').click();
    const table = page.getByTestId('instruments-table');
    await table.locator('tbody tr').filter({ hasText: 'phq9' }).waitFor();
    await page.getByTestId('instrument-new').click();
    await page.getByTestId('instrument-valid').waitFor();
    const preview = page.getByTestId('instrument-preview');
    check((await preview.getByTestId('q-item').count()) === 2, 'the preview does not show the two template items');
    const json = page.getByTestId('instrument-json');
    const def = JSON.parse(await json.inputValue());
    def.code = `e2e_${stamp}`;
    def.name = { zh: `端到端量表 ${stamp}`, en: `E2E ${stamp}` };
    def.items.push({ code: '3', text: { zh: '我容易发脾气', en: 'I lose my temper easily' } });
    await json.fill(JSON.stringify(def, null, 2)); // the bands now stop short of the new highest total, 6
    const error = page.getByTestId('definition-error').filter({ hasText: 'bands[1].max' });
    await error.waitFor();
    check((await preview.getByTestId('q-item').count()) === 3, 'the preview does not follow the editor');
    def.bands[1].max = 6;
    await json.fill(JSON.stringify(def, null, 2));
    const valid = page.getByTestId('instrument-valid');
    await valid.filter({ hasText: '0–6' }).waitFor();
    await page.getByTestId('instrument-save').click();
    const row = table.locator('tbody tr').filter({ hasText: `e2e_${stamp}` });
    await row.waitFor();
    check((await row.innerText()).includes('v1'), `the new instrument is not version 1: ${await row.innerText()}`);
  }],
];
