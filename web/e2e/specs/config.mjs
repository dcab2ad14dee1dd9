// The Configuration page: toggling debug and saving reaches CPA (the
// simulator); the config.yaml editor checks YAML while typing, shows a diff,
// saves, and marks the line CPA's error names; unsaved edits hold back
// navigation.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { find, tid } from '../lib/browser.mjs';
import { browserTestBothModes } from '../lib/harness.mjs';
import { until } from '../lib/util.mjs';

const HINT = 'is the Configuration page built yet?';
const DEBUG = '/v0/management/debug';
const RETRY = '/v0/management/request-retry';
const WRITE = { 'X-CPAM-Request': '1' };

/** The 1-based line of config.yaml (as CPA holds it now) matching re. */
async function lineOf(api, re) {
  const text = String(await api.ok('/v0/management/config.yaml'));
  const i = text.split('\n').findIndex((l) => re.test(l));
  assert.ok(i >= 0, `config.yaml has no line matching ${re}`);
  return i + 1;
}

/** Opens the config.yaml tab and waits for the editor. */
async function openYamlTab(page, panelUrl) {
  await page.goto(`${panelUrl}#/config`);
  await find(page, 'config-page', { timeout: 8000, hint: HINT });
  await (await find(page, 'config-tab-yaml', { hint: HINT })).click();
  await find(page, 'config-yaml-content', { timeout: 8000, hint: HINT });
  await until(async () => ((await tid(page, 'config-yaml-check').first().getAttribute('data-errors')) === '0' ? true : undefined), {
    what: 'the loaded config.yaml to check clean',
  });
}

/** Replaces the editor line matching re (a line that is on screen) with text, typing it. */
async function replaceLine(page, re, text) {
  const line = page.locator('[data-testid="config-yaml-content"] .cm-line').filter({ hasText: re }).first();
  await line.waitFor({ state: 'visible', timeout: 5000 }).catch(() => {
    throw new Error(`no editor line matching ${re}`);
  });
  await line.click();
  await page.keyboard.press('End');
  await page.keyboard.press('Shift+Home');
  await page.keyboard.type(text);
}

/** Waits for the client-side check to report n errors. */
async function expectClientErrors(page, n) {
  await until(async () => ((await tid(page, 'config-yaml-check').first().getAttribute('data-errors')) === String(n) ? true : undefined), {
    what: `${n} client-side YAML error(s)`,
  });
}

export default function config() {
  describe('config', () => {
    browserTestBothModes('9 config: toggling debug and saving changes CPA’s setting', async ({ page, shot, api, panelUrl }) => {
      const before = (await api.ok(DEBUG)).debug;
      assert.equal(typeof before, 'boolean', 'GET /debug gives no boolean');
      try {
        await page.goto(`${panelUrl}#/config`);
        await find(page, 'config-page', { timeout: 8000, hint: HINT });
        const box = await find(page, 'config-field-debug', { hint: HINT });
        assert.equal(await box.isChecked(), before, 'the debug checkbox does not show CPA’s value');
        await find(page, 'config-usage-warning', { hint: HINT });
        assert.ok(await tid(page, 'config-save').first().isDisabled(), 'save is enabled without changes');

        await box.click();
        await shot('debug toggled');
        await (await find(page, 'config-save', { hint: HINT })).click();
        const dialog = await find(page, 'config-change-list', { hint: HINT });
        assert.equal(await dialog.locator('li').count(), 1, 'the confirmation lists other changes than debug');
        await (await find(page, 'config-save-confirm', { hint: HINT })).click();

        const item = page.locator('[data-testid="config-result"] [data-setting="debug"]').first();
        await item.waitFor({ state: 'visible', timeout: 10_000 }).catch(() => {
          throw new Error('element not found: [data-testid="config-result"] [data-setting="debug"] within 10000 ms');
        });
        assert.equal(await item.getAttribute('data-state'), 'ok', `saving debug failed: ${await item.textContent()}`);
        await shot('saved');

        await until(async () => ((await api.ok(DEBUG)).debug === !before ? true : undefined), {
          what: `CPA's debug to become ${!before}`,
        });
        await until(async () => ((await box.isChecked()) === !before ? true : undefined), { what: 'the checkbox to show the saved value' });
        await until(async () => ((await tid(page, 'config-pending').first().getAttribute('data-count')) === '0' ? true : undefined), {
          what: 'no pending changes after the save',
        });
      } finally {
        await api.request(DEBUG, { method: 'PUT', body: { value: before }, headers: { 'X-CPAM-Request': '1' } }).catch(() => {});
      }
    });

    browserTestBothModes(
      '9b config.yaml: a syntax error is caught while typing, the diff shows the edit, saving changes CPA',
      async ({ page, shot, api, panelUrl }) => {
        const before = (await api.ok(RETRY))['request-retry'];
        assert.equal(typeof before, 'number', 'GET /request-retry gives no number');
        const next = before === 4 ? 5 : 4;
        const lineNo = await lineOf(api, /^request-retry:/);
        try {
          await openYamlTab(page, panelUrl);
          assert.ok(await tid(page, 'config-yaml-review').first().isDisabled(), 'review is enabled without an edit');

          // A syntax error: reported at its line, in the gutter, and saving is off.
          await replaceLine(page, /^request-retry:/, `request-retry: ${next}: oops`);
          await expectClientErrors(page, 1);
          assert.equal(
            await tid(page, 'config-yaml-check').first().getAttribute('data-line'),
            String(lineNo),
            'the error is not at the edited line',
          );
          assert.equal(await tid(page, 'config-yaml-problem').first().getAttribute('data-line'), String(lineNo));
          await page
            .locator('[data-testid="config-yaml-editor"] .cm-lint-marker-error')
            .first()
            .waitFor({ state: 'visible', timeout: 5000 });
          assert.ok(await tid(page, 'config-yaml-review').first().isDisabled(), 'review is enabled with a YAML error');
          await shot('syntax error');

          // Fixed: the check is clean and the diff shows exactly the changed line.
          await replaceLine(page, /^request-retry:/, `request-retry: ${next}`);
          await expectClientErrors(page, 0);
          assert.equal(
            await tid(page, 'config-tab-yaml').first().locator('.config-tab-dot').count(),
            1,
            'the tab does not show unsaved edits',
          );
          await (await find(page, 'config-yaml-review', { hint: HINT })).click();
          await find(page, 'config-yaml-review-dialog', { hint: HINT });
          const diff = await find(page, 'config-yaml-diff', { hint: HINT });
          const rows = async (kind) =>
            diff
              .locator(`[data-kind="${kind}"]`)
              .evaluateAll((els) => els.map((e) => e.querySelector('.cfg-diff-text')?.textContent ?? ''));
          assert.deepEqual(await rows('del'), [`request-retry: ${before}`], 'the diff does not remove exactly the old line');
          assert.deepEqual(await rows('add'), [`request-retry: ${next}`], 'the diff does not add exactly the new line');
          const added = diff.locator('[data-kind="add"] .cfg-diff-no').nth(1);
          assert.equal((await added.textContent())?.trim(), String(lineNo), 'the added line has the wrong line number');
          assert.ok((await diff.locator('[data-kind="same"]').count()) <= 6, 'the diff shows more than 3 lines of context on each side');
          assert.equal(await tid(page, 'config-yaml-conflict').count(), 0, 'a conflict is reported although nothing changed on CPA');
          await shot('review');

          await (await find(page, 'config-yaml-save', { hint: HINT })).click();
          await find(page, 'config-yaml-saved', { timeout: 10_000, hint: HINT });
          await until(async () => ((await api.ok(RETRY))['request-retry'] === next ? true : undefined), {
            timeout: 8000,
            what: `CPA's request-retry to become ${next}`,
          });
          assert.equal(
            await tid(page, 'config-yaml-tab').first().getAttribute('data-dirty'),
            'false',
            'the editor is still dirty after the save',
          );
          await shot('saved');

          // The visual editor shows the same, refetched configuration.
          await (await find(page, 'config-tab-settings', { hint: HINT })).click();
          const field = await find(page, 'config-field-request-retry', { hint: HINT });
          await until(async () => ((await field.inputValue()) === String(next) ? true : undefined), {
            what: 'the settings tab to show the saved value',
          });
        } finally {
          await api.request(RETRY, { method: 'PUT', body: { value: before }, headers: WRITE }).catch(() => {});
        }
        await until(async () => ((await api.ok(RETRY))['request-retry'] === before ? true : undefined), {
          what: 'request-retry to be restored',
        });
      },
    );

    browserTestBothModes(
      '9c config.yaml: CPA rejects a file that parses, and the line it names is marked',
      async ({ page, shot, api, panelUrl }) => {
        const before = (await api.ok(RETRY))['request-retry'];
        const yamlBefore = String(await api.ok('/v0/management/config.yaml'));
        const retryLine = await lineOf(api, /^request-retry:/);
        const strategyLine = await lineOf(api, /^\s+strategy:/);
        await openYamlTab(page, panelUrl);

        // A type error: CPA's message names the line ("line N: cannot unmarshal").
        await replaceLine(page, /^request-retry:/, 'request-retry: abc');
        await expectClientErrors(page, 0);
        await (await find(page, 'config-yaml-review', { hint: HINT })).click();
        await (await find(page, 'config-yaml-save', { hint: HINT })).click();
        const err = await find(page, 'config-yaml-server-error', { timeout: 10_000, hint: HINT });
        assert.equal(await err.getAttribute('data-code'), 'invalid_config');
        assert.equal(
          await err.getAttribute('data-line'),
          String(retryLine),
          `the error does not name line ${retryLine}: ${await err.textContent()}`,
        );
        assert.match((await err.textContent()) ?? '', /cannot unmarshal/);
        const marked = page.locator('[data-testid="config-yaml-editor"] .cm-cpa-error-line');
        await marked.first().waitFor({ state: 'visible', timeout: 5000 });
        assert.equal(await marked.count(), 1);
        assert.equal((await marked.first().textContent())?.trim(), 'request-retry: abc', 'the marked line is not the rejected one');
        await shot('rejected type');

        // A semantic error without a line number: located by its key path.
        await replaceLine(page, /^request-retry:/, `request-retry: ${before}`);
        await until(async () => ((await marked.count()) === 0 ? true : undefined), { what: 'the mark to go away after an edit' });
        await replaceLine(page, /^\s+strategy:/, '  strategy: sideways');
        await (await find(page, 'config-yaml-review', { hint: HINT })).click();
        await (await find(page, 'config-yaml-save', { hint: HINT })).click();
        await until(
          async () =>
            (await tid(page, 'config-yaml-server-error').first().getAttribute('data-line')) === String(strategyLine) ? true : undefined,
          {
            what: `the strategy error to point at line ${strategyLine}`,
          },
        );
        assert.match((await tid(page, 'config-yaml-server-error').first().textContent()) ?? '', /strategy/);
        await marked.first().waitFor({ state: 'visible', timeout: 5000 });
        assert.match((await marked.first().textContent()) ?? '', /strategy: sideways/);
        await shot('rejected strategy');

        // Nothing reached CPA.
        assert.equal(String(await api.ok('/v0/management/config.yaml')), yamlBefore, 'a rejected file changed config.yaml');

        // The file changes on CPA meanwhile: the review warns instead of overwriting silently.
        const debugBefore = (await api.ok(DEBUG)).debug;
        try {
          await api.ok(DEBUG, { method: 'PUT', body: { value: !debugBefore }, headers: WRITE });
          await (await find(page, 'config-yaml-review', { hint: HINT })).click();
          const conflict = await find(page, 'config-yaml-conflict', { hint: 'no warning about a file changed on CPA' });
          const remote = conflict.locator('[data-testid="config-yaml-remote-diff"] [data-kind="add"] .cfg-diff-text');
          assert.deepEqual(await remote.allTextContents(), [`debug: ${!debugBefore}`], 'the warning does not show what changed on CPA');
          await shot('conflict');
          await tid(page, 'config-yaml-review-dialog').first().locator('.dialog-actions button').first().click();
          await tid(page, 'config-yaml-review-dialog').first().waitFor({ state: 'detached', timeout: 5000 });

          // Reload from CPA asks (there are edits), then shows the current file.
          await (await find(page, 'config-yaml-reload', { hint: HINT })).click();
          await (await find(page, 'config-yaml-reload-confirm', { hint: 'reloading with edits does not ask' })).click();
          await until(
            async () => ((await tid(page, 'config-yaml-tab').first().getAttribute('data-dirty')) === 'false' ? true : undefined),
            {
              what: 'the reloaded editor to be clean',
            },
          );
          // The top of the file, where debug is (the editor renders only what is near the view).
          await tid(page, 'config-yaml-content').first().focus();
          await page.keyboard.press('Control+Home');
          const debugLine = page.locator('[data-testid="config-yaml-content"] .cm-line').filter({ hasText: /^debug:/ });
          assert.equal(
            (await debugLine.first().textContent())?.trim(),
            `debug: ${!debugBefore}`,
            'the reload does not show the current file',
          );
          assert.equal(await page.locator('[data-testid="config-yaml-content"] .cm-line').filter({ hasText: 'sideways' }).count(), 0);

          // Discard drops an edit without asking.
          await replaceLine(page, /^request-retry:/, `request-retry: ${before + 1}`);
          await until(async () => ((await tid(page, 'config-yaml-tab').first().getAttribute('data-dirty')) === 'true' ? true : undefined), {
            what: 'the edit to make the editor dirty',
          });
          await (await find(page, 'config-yaml-discard', { hint: HINT })).click();
          assert.equal(await tid(page, 'config-yaml-tab').first().getAttribute('data-dirty'), 'false', 'discard left the editor dirty');
          assert.equal(
            (
              await page
                .locator('[data-testid="config-yaml-content"] .cm-line')
                .filter({ hasText: /^request-retry:/ })
                .first()
                .textContent()
            )?.trim(),
            `request-retry: ${before}`,
          );
        } finally {
          await api.request(DEBUG, { method: 'PUT', body: { value: debugBefore }, headers: WRITE }).catch(() => {});
        }
        assert.equal((await api.ok(RETRY))['request-retry'], before, 'request-retry changed');
      },
    );

    browserTestBothModes('9d config: leaving with unsaved edits asks first', async ({ page, shot, api, panelUrl }) => {
      const before = (await api.ok(DEBUG)).debug;
      await page.goto(`${panelUrl}#/config`);
      await find(page, 'config-page', { timeout: 8000, hint: HINT });
      const box = await find(page, 'config-field-debug', { hint: HINT });
      await box.click();
      assert.equal(await box.isChecked(), !before);

      // A click on another page in the navigation: asked, and staying keeps the edit.
      await (await find(page, 'nav-logs', { hint: HINT })).click();
      const dialog = await find(page, 'config-leave-dialog', { hint: 'no confirmation when leaving with unsaved edits' });
      assert.equal(
        await dialog.locator('[data-testid="config-leave-list"] li[data-tab="settings"]').count(),
        1,
        'the dialog does not name the settings tab',
      );
      await shot('leave asked');
      await dialog.locator('.dialog-actions button').first().click();
      await tid(page, 'config-leave-dialog').first().waitFor({ state: 'detached', timeout: 5000 });
      assert.match(page.url(), /#\/config/, 'staying left the page');
      assert.equal(await box.isChecked(), !before, 'staying lost the edit');

      // Any other hash change (back button, typed URL) is held back too.
      await page.evaluate(() => {
        window.location.hash = '#/dashboard';
      });
      await find(page, 'config-leave-dialog', { hint: 'no confirmation on a hash change' });
      assert.match(page.url(), /#\/config/, 'the hash change was not undone');
      assert.equal(await tid(page, 'config-page').count(), 1, 'the page was left');
      await tid(page, 'config-leave-dialog').first().locator('.dialog-actions button').first().click();

      // Closing or reloading the tab: the browser asks (beforeunload).
      let asked = '';
      page.once('dialog', (d) => {
        asked = d.type();
        void d.dismiss();
      });
      await page.reload({ timeout: 3000 }).catch(() => {});
      await until(async () => (asked ? true : undefined), { what: 'a beforeunload prompt' });
      assert.equal(asked, 'beforeunload');
      assert.equal(await box.isChecked(), !before, 'the reload went through');

      // Discarded: navigation goes through without asking.
      await (await find(page, 'config-discard', { hint: HINT })).click();
      await (await find(page, 'nav-logs', { hint: HINT })).click();
      await find(page, 'logs-page', { timeout: 8000, hint: 'navigation after discarding did not happen' });
      assert.equal(await tid(page, 'config-leave-dialog').count(), 0);
      assert.equal((await api.ok(DEBUG)).debug, before, 'the discarded edit reached CPA');
    });

    browserTestBothModes(
      '9e config: caddy-cpam’s own settings are shown read-only, without keys',
      async ({ page, shot, api, stack, panelUrl }) => {
        const status = await api.ok('/cpam/status');
        const settings = status.settings;
        assert.ok(settings, '/cpam/status reports no settings');
        await page.goto(`${panelUrl}#/config`);
        const card = await find(page, 'config-cpam-settings', { timeout: 8000 });
        const upstream = await find(card, 'config-cpam-upstream', { timeout: 8000 });
        const shown = await upstream.innerText();
        assert.ok(shown.includes(settings.upstreams[0].url), `the upstream shows "${shown}", not ${settings.upstreams[0].url}`);
        assert.ok(
          (await (await find(card, 'config-cpam-cors')).innerText()).includes(settings.corsOrigins[0]),
          'the CORS origin is not shown',
        );
        const text = await card.innerText();
        for (const secret of [stack.adminKey, stack.managementKey]) assert.ok(!text.includes(secret), 'the settings card shows a key');
        await shot('cpam settings');
      },
    );
  });
}
