// The OAuth login page: a Kimi device login (auto-approved by the
// simulator) and a Codex PKCE login finished by pasting the callback URL
// both create an auth file in CPA; a started login can be cancelled.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { find, tid } from '../lib/browser.mjs';
import { browserTestBothModes } from '../lib/harness.mjs';
import { until } from '../lib/util.mjs';

const HINT = 'is the OAuth page built yet?';
const FILES = '/v0/management/auth-files';
const WRITE = { 'X-CPAM-Request': '1' };

/** @param {{ ok: (path: string) => Promise<any> }} api */
async function names(api) {
  const doc = await api.ok(FILES);
  return /** @type {string[]} */ ((doc.files ?? []).map((/** @type {any} */ f) => f.name));
}

/**
 * Waits for the card's phase.
 * @param {import('playwright-core').Locator} card
 * @param {string} phase
 * @param {number} timeout
 */
async function phase(card, phase, timeout = 10_000) {
  const status = tid(card, 'oauth-status');
  await until(async () => ((await status.getAttribute('data-phase')) === phase ? true : undefined), {
    timeout,
    what: `the login to reach "${phase}" (now "${await status.getAttribute('data-phase').catch(() => '?')}": ${await card.innerText().catch(() => '')})`,
  });
}

export default function oauth() {
  describe('oauth', () => {
    browserTestBothModes(
      '15 oauth: Kimi device login and Codex callback paste add auth files; a login can be cancelled',
      async ({ page, shot, api, panelUrl }) => {
        const before = await names(api);
        /** @type {string[]} */
        let created = [];
        try {
          await page.goto(`${panelUrl}#/oauth`);
          await find(page, 'oauth-page', { timeout: 8000, hint: HINT });

          // Kimi: device flow; the simulator approves it 2 s after the start.
          const kimi = await find(page, 'oauth-card-kimi', { hint: HINT });
          await tid(kimi, 'oauth-start').click();
          const code = await find(kimi, 'oauth-user-code', { hint: 'the device code is not shown' });
          assert.match((await code.innerText()).trim(), /^[A-Z0-9]{4}-[A-Z0-9]{4}$/, 'the user code is not shown');
          assert.match(await tid(kimi, 'oauth-url').getAttribute('href'), /^https:\/\//, 'the verification URL is not a link');
          assert.match(await tid(kimi, 'oauth-countdown').innerText(), /^\d+:\d\d$/, 'no expiry countdown');
          await shot('kimi device code');
          await phase(kimi, 'ok', 15_000);
          await find(kimi, 'oauth-success');
          const afterKimi = await until(
            async () => {
              const now = await names(api);
              const added = now.filter((n) => !before.includes(n) && n.startsWith('kimi-'));
              return added.length > 0 ? added : undefined;
            },
            { what: 'a new kimi auth file in GET /auth-files' },
          );
          created.push(...afterKimi);
          await shot('kimi signed in');

          // Codex: PKCE; paste the redirect URL with the shown state.
          const codex = await find(page, 'oauth-card-codex', { hint: HINT });
          await tid(codex, 'oauth-start').click();
          const state = (await (await find(codex, 'oauth-state', { hint: 'the state is not shown' })).innerText()).trim();
          assert.match(state, /^[A-Za-z0-9_.-]+$/, 'the shown state looks wrong');
          assert.ok(
            (await tid(codex, 'oauth-url').getAttribute('href'))?.includes(`state=${state}`),
            'the login URL does not carry the state',
          );
          await tid(codex, 'oauth-callback-input').fill(`http://localhost:1455/auth/callback?code=test&state=${state}`);
          await shot('codex callback pasted');
          await tid(codex, 'oauth-callback-submit').click();
          await phase(codex, 'ok', 10_000);
          const afterCodex = await until(
            async () => {
              const now = await names(api);
              const added = now.filter((n) => !before.includes(n) && n.startsWith('codex-'));
              return added.length > 0 ? added : undefined;
            },
            { what: 'a new codex auth file in GET /auth-files' },
          );
          created.push(...afterCodex);

          // Another login, cancelled: CPA forgets its state.
          await tid(codex, 'oauth-again').click();
          await tid(codex, 'oauth-start').click();
          const state2 = (await (await find(codex, 'oauth-state')).innerText()).trim();
          assert.notEqual(state2, state, 'the second login reuses the state');
          await tid(codex, 'oauth-cancel').click();
          await phase(codex, 'cancelled', 5000);
          await find(codex, 'oauth-cancelled');
          const status = await api.ok(`/v0/management/get-auth-status?state=${encodeURIComponent(state2)}`);
          assert.equal(status.status, 'error', `the cancelled login is still known to CPA: ${JSON.stringify(status)}`);
          await shot('cancelled');
          const final = await names(api);
          assert.deepEqual(
            final.filter((n) => !before.includes(n)).sort(),
            [...created].sort(),
            'the cancelled login created an auth file',
          );
        } finally {
          created = [...new Set(created)];
          if (created.length > 0) await api.request(FILES, { method: 'DELETE', body: { names: created }, headers: WRITE }).catch(() => {});
        }
      },
      { timeout: 60_000 },
    );
  });
}
