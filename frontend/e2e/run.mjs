// End-to-end tests: Debian's Chromium driven by playwright-core against a real server with the
// demo data (scripts/e2e.sh starts one on 127.0.0.1:18080). Prints "ok - <name>" or
// "not ok - <name>" per scenario, then "N passed, M failed" alone on a line; exits non-zero
// when any failed. A failed scenario leaves a screenshot at /tmp/xinqiao-e2e-<name>.png.
// Every step waits at most 15 s. The scenarios are in scenarios.mjs.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { chromiumOptions, runAll, scenarios, serverScenarios } from './scenarios.mjs';

// More real-server scenarios, one module per feature in server/, each exporting `scenarios`.
const serverDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'server');
const more = [];
for (const f of fs.existsSync(serverDir) ? fs.readdirSync(serverDir).filter((f) => f.endsWith('.mjs')).sort() : []) {
  more.push(...(await import(path.join(serverDir, f))).scenarios);
}

const base = process.env.XINQIAO_BASE_URL || 'http://127.0.0.1:18080';

let browser;
try {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync'],
    timeout: chromiumOptions.timeout,
  });
} catch (err) {
  console.log(`not ok - launch-chromium\n  ${String(err?.message || err).split('\n')[0]}`);
  console.log(`0 passed, ${scenarios.length + serverScenarios.length + more.length} failed`);
  process.exit(1);
}
const failed = await runAll(browser, base, async () => {}, [...serverScenarios, ...more]);
await browser.close().catch(() => {});
process.exit(failed > 0 ? 1 : 0);
