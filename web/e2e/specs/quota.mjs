// The Quota page: refreshing all accounts reads each one's windows from the
// provider through CPA's /api-call (the simulator answers like the real
// providers); an account whose token is refused shows a readable error.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { find, tid } from '../lib/browser.mjs';
import { browserTestBothModes } from '../lib/harness.mjs';
import { until } from '../lib/util.mjs';

const HINT = 'is the Quota page built yet?';
const DEMO = 'codex-demo@example.com-plus.json';
const EXPIRED = 'codex-expired@example.com-plus.json';
const QUOTA_PROVIDERS = new Set(['codex', 'claude', 'gemini-cli', 'antigravity', 'kimi', 'xai']);

/**
 * What the simulator answers for a Codex account's wham/usage, read through
 * caddy-cpam's management proxy like the panel does.
 * @param {import('../lib/api.mjs').Api} api
 * @param {{ auth_index: string, id_token?: { chatgpt_account_id?: string } }} file
 */
async function codexUsage(api, file) {
  const res = await api.request('/v0/management/api-call', {
    method: 'POST',
    headers: { 'X-CPAM-Request': '1' },
    body: {
      auth_index: file.auth_index,
      method: 'GET',
      url: 'https://chatgpt.com/backend-api/wham/usage',
      header: { Authorization: 'Bearer $TOKEN$', 'Chatgpt-Account-Id': file.id_token?.chatgpt_account_id ?? '' },
    },
  });
  assert.equal(res.status, 200, `POST /api-call: HTTP ${res.status}: ${res.text.slice(0, 200)}`);
  const doc = res.json();
  return { status: doc.status_code, body: JSON.parse(doc.body) };
}

/** @param {import('playwright-core').Page} page @param {string} name */
const account = (page, name) => page.locator(`[data-testid="quota-account"][data-name="${name}"]`);

export default function quota() {
  describe('quota', () => {
    browserTestBothModes('quota: refresh all shows each account’s windows and readable errors', async ({ page, shot, api, panelUrl }) => {
      const { files } = await api.ok('/v0/management/auth-files');
      const demo = files.find((f) => f.name === DEMO);
      const expired = files.find((f) => f.name === EXPIRED);
      assert.ok(demo, `the simulator has no ${DEMO}`);
      const expectedAccounts = files.filter((f) => QUOTA_PROVIDERS.has(f.provider) && f.auth_index).length;

      const truth = await codexUsage(api, demo);
      assert.equal(truth.status, 200);
      const primary = truth.body.rate_limit.primary_window.used_percent;
      const secondary = truth.body.rate_limit.secondary_window.used_percent;
      assert.equal(typeof primary, 'number');

      // Passive evidence already stored: every such listed account shows it.
      const evidence = await api.ok('/cpam/api/v1/quota-evidence', {
        query: { from: new Date(Date.now() - 7 * 86400_000).toISOString(), to: new Date().toISOString() },
      });
      const withEvidence = new Set(evidence.items.map((/** @type {{ account: string }} */ e) => e.account));

      await page.goto(`${panelUrl}#/quota`);
      await find(page, 'quota-page', { timeout: 8000, hint: HINT });
      await find(page, 'quota-account', { hint: HINT });
      assert.equal(
        await tid(page, 'quota-account').count(),
        expectedAccounts,
        'the page does not list every account with a quota endpoint',
      );
      // Nothing is read before the user asks.
      assert.equal(await account(page, DEMO).getAttribute('data-state'), 'idle');
      for (const f of files) {
        if (!withEvidence.has(f.auth_index) || !QUOTA_PROVIDERS.has(f.provider)) continue;
        const ev = tid(account(page, f.name), 'quota-evidence');
        await ev.waitFor({ state: 'visible', timeout: 5000 }).catch(() => {
          throw new Error(`element not found: no passive evidence shown for ${f.name}`);
        });
        assert.match((await ev.textContent()) ?? '', /Passive/);
      }
      await shot('before refresh');

      await (await find(page, 'quota-concurrency', { hint: HINT })).selectOption('2');
      await (await find(page, 'quota-refresh-all', { hint: HINT })).click();
      const progress = await find(page, 'quota-progress', { hint: HINT });
      await until(async () => ((await progress.getAttribute('data-running')) === 'false' ? true : undefined), {
        timeout: 20_000,
        what: 'the batch refresh to finish',
      });
      assert.equal(await progress.getAttribute('data-done'), String(expectedAccounts));
      assert.equal(await progress.getAttribute('data-total'), String(expectedAccounts));
      assert.match((await progress.textContent()) ?? '', new RegExp(`${expectedAccounts} of ${expectedAccounts}`));

      // codex-demo: both windows with the simulator's percentages.
      const demoCard = account(page, DEMO);
      assert.equal(await demoCard.getAttribute('data-state'), 'ok', `codex-demo: ${await demoCard.textContent()}`);
      const p = demoCard.locator('[data-testid="quota-window"][data-window-id="primary"]');
      const s = demoCard.locator('[data-testid="quota-window"][data-window-id="secondary"]');
      assert.equal(await p.getAttribute('data-used'), String(primary));
      assert.equal(await s.getAttribute('data-used'), String(secondary));
      assert.equal((await tid(p, 'quota-window-used').textContent())?.trim(), `${primary}% used`);
      assert.equal((await tid(s, 'quota-window-used').textContent())?.trim(), `${secondary}% used`);
      assert.match((await p.textContent()) ?? '', /5-hour/);
      assert.match((await s.textContent()) ?? '', /Weekly/);
      assert.match((await p.textContent()) ?? '', /Resets in /, 'no reset time on the 5-hour window');
      assert.match((await tid(demoCard, 'quota-plan').textContent()) ?? '', /plus/);

      // The expired account: a readable error, not a raw status.
      assert.ok(expired, `the simulator has no ${EXPIRED} (is bin/cpa-sim up to date?)`);
      const refused = await codexUsage(api, expired);
      assert.equal(refused.status, 401, 'the expired Codex account is not refused by the simulator');
      const expiredCard = account(page, EXPIRED);
      assert.equal(await expiredCard.getAttribute('data-state'), 'upstream-error');
      const err = tid(expiredCard, 'quota-error');
      assert.equal(await err.getAttribute('data-status'), '401');
      assert.equal(await err.getAttribute('data-kind'), 'reauth');
      assert.match((await err.textContent()) ?? '', /Re-authenticate/);
      assert.equal(await tid(expiredCard, 'quota-reauth-link').getAttribute('href'), '#/oauth');

      // Other providers are parsed too (Claude's 5-hour window).
      const claude = page.locator('[data-testid="quota-account"][data-provider="claude"]').first();
      assert.equal(await claude.getAttribute('data-state'), 'ok');
      assert.ok(
        (await claude.locator('[data-testid="quota-window"][data-window-id="five_hour"]').count()) === 1,
        'Claude shows no 5-hour window',
      );
      await shot('refreshed');

      // Refreshing one account reads it again.
      await tid(demoCard, 'quota-refresh-one').click();
      await until(async () => ((await demoCard.getAttribute('data-state')) === 'ok' ? true : undefined), {
        what: 'codex-demo to be read again',
      });
      await demoCard.scrollIntoViewIfNeeded();
      await shot('one refreshed');
      // Phone width: the cards stack and nothing overflows the page.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.evaluate(() => window.scrollTo(0, 0));
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px at phone width`);
      await shot('phone');
    });
  });
}
