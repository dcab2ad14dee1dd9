// Sign-in, the dashboard's numbers against the API, language and theme,
// sign-out. These pages exist now.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe } from 'node:test';
import { find, marks, tid } from '../lib/browser.mjs';
import { browserTest, env } from '../lib/harness.mjs';
import { ORIGIN, PANEL_URL } from '../lib/stack.mjs';
import { formatCount, localDate, parseCount, sleep, until } from '../lib/util.mjs';

const CJK = /[\u3400-\u9fff]/;

/** The API's count of today's attempts (local midnight → now, in the browser's zone). */
const todaysAttempts = async () => (await env.api.summary({ from: localDate(env.timeZone), tz: env.timeZone })).attempts;

export default function foundation() {
  describe('foundation', () => {
    browserTest(
      '1 login: a wrong key shows login-error, the right key reaches the dashboard',
      async ({ page, context, shot, stack }) => {
        const started = Date.now();
        await page.goto(PANEL_URL);
        const input = await find(page, 'login-key-input', { timeout: 10_000 });
        const wall = Date.now() - started;
        const { seen } = await marks(page);
        env.timings['navigation start → login form'] = seen['login-key-input'] ?? wall;
        env.timings['page.goto → login form visible (wall clock)'] = wall;
        await shot('login form');

        await input.fill('wrong-' + randomBytes(12).toString('hex'));
        await tid(page, 'login-submit').click();
        const error = await find(page, 'login-error');
        assert.notEqual((await error.innerText()).trim(), '', 'login-error is empty');
        assert.equal(await tid(page, 'kpi-requests').count(), 0, 'a wrong key showed the dashboard');
        assert.ok(!(await context.cookies(ORIGIN)).some((c) => c.name === 'cpam_session'), 'a wrong key got a session cookie');
        await shot('wrong key');

        await input.fill(stack.adminKey);
        await tid(page, 'login-submit').click();
        await find(page, 'kpi-requests', { timeout: 10_000 });
        await find(page, 'logout-button');
        assert.equal(await tid(page, 'login-error').count(), 0, 'login-error still shown after a successful sign-in');
        const m = await marks(page);
        const click = m.clicks['login-submit'];
        const kpi = m.seen['kpi-requests'];
        if (click !== undefined && kpi !== undefined) env.timings['login click → dashboard KPIs'] = kpi - click;

        const cookie = (await context.cookies(ORIGIN)).find((c) => c.name === 'cpam_session');
        assert.ok(cookie, 'no cpam_session cookie after signing in');
        assert.ok(cookie.httpOnly && cookie.secure && cookie.sameSite === 'Strict', `session cookie flags: ${JSON.stringify(cookie)}`);
      },
      { login: false },
    );

    browserTest('2 dashboard: kpi-requests equals today’s attempts from the API', async ({ page, shot }) => {
      const kpi = tid(page, 'kpi-requests');
      /** The panel's request for today (yesterday's ends a day ago). @param {import('playwright-core').Response} r */
      const isToday = (r) => {
        const u = new URL(r.url());
        return u.pathname.endsWith('/api/v1/summary') && Math.abs(Date.parse(u.searchParams.get('to') ?? '') - Date.now()) < 120_000;
      };
      /**
       * Reads the API, lets the panel fetch (trigger), reads the API again
       * right after the panel's answer: that answer must lie between the two
       * reads, and the KPI must show it, formatted like the panel does. A few
       * tries, in case the panel fetched twice.
       * @param {() => Promise<unknown>} trigger
       * @param {string} label
       */
      const check = async (trigger, label) => {
        let last = '';
        for (let i = 0; i < 3; i++) {
          const before = await todaysAttempts();
          const response = page.waitForResponse(isToday, { timeout: 10_000 });
          await trigger();
          const res = await response;
          const after = await todaysAttempts();
          assert.equal(res.status(), 200, `${label}: the panel's summary request failed`);
          const params = new URL(res.url()).searchParams;
          assert.equal(params.get('tz'), env.timeZone, `${label}: the panel asked for another time zone`);
          assert.ok(
            params.get('from')?.startsWith(`${localDate(env.timeZone)}T00:00:00`),
            `${label}: today starts at local midnight, the panel asked from=${params.get('from')}`,
          );
          /** @type {number} */
          const answered = (await res.json()).current.attempts;
          const text = await until(
            async () => {
              const t = ((await kpi.textContent({ timeout: 2000 })) ?? '').trim();
              return parseCount(t) === answered ? t : undefined;
            },
            { what: `${label}: kpi-requests showing ${answered}` },
          );
          assert.equal(text, formatCount(answered), `${label}: kpi-requests is not formatted like the panel's numbers`);
          if (before <= answered && answered <= after) return answered;
          last = `${label}: the panel shows ${answered}; the API answered ${before} before the panel's request and ${after} after`;
          trigger = () => tid(page, 'dashboard-refresh').click();
        }
        throw new Error(last);
      };

      const first = await check(() => page.goto(PANEL_URL), 'after load');
      const { seen } = await marks(page);
      if (seen['kpi-requests'] !== undefined) env.timings['navigation start → dashboard KPIs (signed in)'] = seen['kpi-requests'];
      await shot('dashboard');
      await sleep(1500); // let the traffic add events
      const second = await check(() => tid(page, 'dashboard-refresh').click(), 'after refresh');
      assert.ok(second >= first, `the count went down after a refresh: ${first} → ${second}`);
      await shot('dashboard refreshed');
    });

    browserTest('3 language and theme switches change the page and persist', async ({ page, shot }) => {
      await page.goto(PANEL_URL);
      const nav = await find(page, 'nav-dashboard', { timeout: 10_000 });
      const english = (await nav.innerText()).trim();
      assert.ok(english !== '' && !CJK.test(english), `the English sidebar says "${english}"`);

      await (await find(page, 'language-switch')).selectOption({ label: '简体中文' });
      const chinese = await until(
        async () => {
          const t = (await nav.innerText()).trim();
          return CJK.test(t) && t !== english ? t : undefined;
        },
        { what: 'Chinese text in the sidebar' },
      );
      assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
      await shot('zh-CN');

      const html = () => page.evaluate(() => document.documentElement.dataset.theme);
      const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(await html(), 'light', 'the OS prefers light, the page is not');
      const lightBackground = await background();
      await (await find(page, 'theme-switch')).selectOption('dark');
      await until(async () => ((await html()) === 'dark' ? true : undefined), { what: 'data-theme="dark" on <html>' });
      assert.notEqual(await background(), lightBackground, 'the dark theme did not change the page background');
      await shot('dark');

      await page.reload();
      const navAfter = await find(page, 'nav-dashboard', { timeout: 10_000 });
      assert.equal((await navAfter.innerText()).trim(), chinese, 'the language did not persist after a reload');
      assert.equal(await tid(page, 'language-switch').inputValue(), 'zh-CN');
      assert.equal(await html(), 'dark', 'the theme did not persist after a reload');
      assert.equal(await tid(page, 'theme-switch').inputValue(), 'dark');
      await shot('after reload');
    });

    browserTest('4 logout returns to the login form and ends the session', async ({ page, context, shot, api }) => {
      await page.goto(PANEL_URL);
      await find(page, 'kpi-requests', { timeout: 10_000 });
      const cookie = (await context.cookies(ORIGIN)).find((c) => c.name === 'cpam_session');
      assert.ok(cookie, 'signed in without a cpam_session cookie');
      const jar = `cpam_session=${cookie.value}`;
      assert.equal(
        (await api.request('/cpam/auth/session', { cookie: jar })).status,
        200,
        'the session cookie does not work before logout',
      );

      await tid(page, 'logout-button').click();
      await find(page, 'login-key-input');
      assert.equal(await tid(page, 'kpi-requests').count(), 0);
      await shot('signed out');

      // The browser's own cookies, and the old cookie replayed: both refused.
      const fromBrowser = await context.request.get('/cpam/auth/session');
      assert.equal(fromBrowser.status(), 401, 'the browser is still signed in after logout');
      for (const p of ['/cpam/auth/session', '/cpam/api/v1/summary', '/v0/management/config']) {
        const res = await api.request(p, { cookie: jar });
        assert.equal(res.status, 401, `GET ${p} with the old session cookie: ${res.status}`);
      }
      await page.reload();
      await find(page, 'login-key-input', { timeout: 10_000 });
    });
  });
}
