// The AI providers page: adding, editing, disabling and deleting an
// OpenAI-compatible provider reaches CPA (the simulator); a connectivity test
// shows what /api-call answers; a credential's usage is the store's.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { find, tid } from '../lib/browser.mjs';
import { browserTestBothModes, expectCount } from '../lib/harness.mjs';
import { SIM_ORIGIN } from '../lib/stack.mjs';
import { until } from '../lib/util.mjs';

const HINT = 'is the providers page built yet?';
const COMPAT = '/v0/management/openai-compatibility';
const CSRF = { 'X-CPAM-Request': '1' };

/** @param {import('../lib/api.mjs').Api} api */
async function compatList(api) {
  return /** @type {any[]} */ ((await api.ok(COMPAT))['openai-compatibility']);
}

/**
 * @param {import('../lib/api.mjs').Api} api
 * @param {string} name
 */
async function compatNamed(api, name) {
  return (await compatList(api)).find((p) => p.name === name);
}

/**
 * Calls /api-call through caddy-cpam's management proxy, as the page does.
 * @param {import('../lib/api.mjs').Api} api
 * @param {object} body
 */
async function apiCall(api, body) {
  const res = await api.request('/v0/management/api-call', { method: 'POST', body, headers: CSRF });
  assert.equal(res.status, 200, `POST /api-call answered ${res.status}: ${res.text.slice(0, 200)}`);
  return res.json();
}

export default function providers() {
  describe('providers', () => {
    browserTestBothModes(
      'providers: add, edit, disable and delete an OpenAI-compatible provider',
      async ({ page, shot, api, mode, panelUrl }) => {
        const name = `e2e-${mode}`;
        const alias = `e2e-alias-${mode}`;
        const baseUrl = `${SIM_ORIGIN}/v1`;
        // A previous failed run may have left it.
        await api.request(COMPAT, { method: 'DELETE', query: { name }, headers: CSRF });
        const mockBefore = await compatNamed(api, 'mock');
        try {
          await page.goto(`${panelUrl}#/providers`);
          await find(page, 'providers-page', { timeout: 8000, hint: HINT });
          await find(page, 'providers-entry', { hint: 'the mock provider should be listed' });
          await shot('loaded');

          // Add.
          await (await find(page, 'providers-add-compat', { hint: HINT })).click();
          const dialog = await find(page, 'providers-editor', { hint: HINT });
          // Saving the empty form shows the validation messages and sends nothing.
          await (await find(dialog, 'providers-editor-save')).click();
          await find(dialog, 'providers-editor-errors', { hint: 'an empty form must not be saved' });
          const errors = await tid(dialog, 'providers-field-error').evaluateAll((els) => els.map((e) => e.getAttribute('data-error')));
          for (const e of ['nameRequired', 'baseUrlRequired']) assert.ok(errors.includes(e), `no ${e} message, got ${errors.join(', ')}`);
          await tid(dialog, 'providers-field-name').fill('mock');
          await tid(dialog, 'providers-field-base-url').fill('not a url');
          await (await find(dialog, 'providers-editor-save')).click();
          await until(
            async () => {
              const now = await tid(dialog, 'providers-field-error').evaluateAll((els) => els.map((e) => e.getAttribute('data-error')));
              return now.includes('nameTaken') && now.includes('baseUrlInvalid') ? true : undefined;
            },
            { what: 'nameTaken and baseUrlInvalid messages' },
          );
          await tid(dialog, 'providers-field-name').fill(name);
          await tid(dialog, 'providers-field-base-url').fill(baseUrl);
          await tid(dialog, 'providers-key-api-key-0').fill('sk-cpa-test-1');
          await tid(dialog, 'providers-model-name-0').fill('e2e-upstream');
          await tid(dialog, 'providers-model-alias-0').fill(alias);
          await shot('add form');
          await tid(dialog, 'providers-editor-save').click();
          await tid(page, 'providers-editor').waitFor({ state: 'detached', timeout: 10_000 });

          const added = await until(async () => compatNamed(api, name), { what: `${name} in /openai-compatibility` });
          assert.equal(added['base-url'], baseUrl);
          assert.deepEqual(
            added['api-key-entries'].map((/** @type {any} */ k) => k['api-key']),
            ['sk-cpa-test-1'],
          );
          assert.deepEqual(
            added.models.map((/** @type {any} */ m) => [m.name, m.alias]),
            [['e2e-upstream', alias]],
          );
          assert.equal(added.disabled, false);
          // The other provider survived the PUT of the whole list unchanged.
          assert.deepEqual(await compatNamed(api, 'mock'), mockBefore, 'adding changed the mock provider');

          const entry = page.locator(`[data-testid="providers-entry"][data-name="${name}"]`);
          await entry.waitFor({ state: 'visible', timeout: 10_000 });
          const keyText = (await entry.textContent()) ?? '';
          assert.ok(!keyText.includes('sk-cpa-test-1'), 'the full API key is shown');
          assert.ok(keyText.includes('sk-c…st-1'), `the masked key is not shown: ${keyText}`);
          await shot('added');

          // Edit the prefix.
          await tid(entry, 'providers-edit').click();
          const edit = await find(page, 'providers-editor');
          await tid(edit, 'providers-field-prefix').fill('e2e-pfx');
          await tid(edit, 'providers-editor-save').click();
          await tid(page, 'providers-editor').waitFor({ state: 'detached', timeout: 10_000 });
          const edited = await until(
            async () => {
              const p = await compatNamed(api, name);
              return p?.prefix === 'e2e-pfx' ? p : undefined;
            },
            { what: 'the prefix e2e-pfx in /openai-compatibility' },
          );
          assert.deepEqual(
            edited['api-key-entries'].map((/** @type {any} */ k) => k['api-key']),
            ['sk-cpa-test-1'],
            'editing changed the stored key',
          );
          assert.equal(edited.models[0]?.alias, alias, 'editing lost the model alias');

          // Connectivity test of its key: the simulator's own /v1/models with a client key.
          const keyBlock = entry.locator('[data-testid="providers-compat-key"]').first();
          const authIndex = (await keyBlock.getAttribute('data-auth-index')) ?? '';
          assert.equal(authIndex, edited['api-key-entries'][0]['auth-index'], 'the key block shows another auth-index');
          await tid(keyBlock, 'providers-test').click();
          const result = await find(keyBlock, 'providers-test-result', { timeout: 15_000 });
          const own = await apiCall(api, {
            auth_index: authIndex,
            method: 'GET',
            url: `${baseUrl}/models`,
            header: { Authorization: 'Bearer $TOKEN$' },
          });
          assert.equal(own.status_code, 200, `the simulator's /v1/models answered ${own.status_code}`);
          assert.equal(await tid(result, 'providers-test-status').getAttribute('data-status'), '200');
          const models = JSON.parse(own.body).data.length;
          assert.equal(
            ((await tid(result, 'providers-test-models').textContent()) ?? '').trim(),
            `${models} model${models === 1 ? '' : 's'}`,
          );
          await shot('tested');

          // Disable.
          await tid(entry, 'providers-toggle').first().click();
          await until(async () => ((await compatNamed(api, name))?.disabled === true ? true : undefined), {
            what: `${name} disabled:true`,
          });
          await until(async () => ((await entry.getAttribute('data-disabled')) === 'true' ? true : undefined), {
            what: 'the entry to show disabled',
          });
          await shot('disabled');

          // Delete, confirmed.
          await tid(entry, 'providers-delete').first().click();
          await (await find(page, 'providers-delete-confirm')).click();
          await until(async () => ((await compatNamed(api, name)) === undefined ? true : undefined), {
            what: `${name} gone from /openai-compatibility`,
          });
          await entry.waitFor({ state: 'detached', timeout: 10_000 });
          assert.deepEqual(await compatNamed(api, 'mock'), mockBefore, 'deleting changed the mock provider');
          await shot('deleted');
        } finally {
          await api.request(COMPAT, { method: 'DELETE', query: { name }, headers: CSRF }).catch(() => {});
        }
      },
      { timeout: 60_000 },
    );

    browserTestBothModes(
      'providers: an xAI key is added, refused twice, disabled, edited and deleted',
      async ({ page, shot, api, mode, panelUrl }) => {
        const key = `xai-e2e-${mode}-0123456789`;
        const XAI = '/v0/management/xai-api-key';
        const list = async () => /** @type {any[]} */ ((await api.ok(XAI))['xai-api-key']);
        const stored = async () => (await list()).find((e) => e['api-key'] === key);
        const cleanup = () => api.request(XAI, { method: 'DELETE', query: { 'api-key': key }, headers: CSRF }).catch(() => {});
        await cleanup();
        try {
          await page.goto(`${panelUrl}#/providers`);
          await find(page, 'providers-page', { timeout: 8000, hint: HINT });
          await (await find(page, 'providers-add-xai', { hint: HINT })).click();
          let dialog = await find(page, 'providers-editor');
          await tid(dialog, 'providers-field-api-key').fill(key);
          await tid(dialog, 'providers-field-base-url').fill('ftp://nope');
          await tid(dialog, 'providers-field-weight').fill('1.5');
          await tid(dialog, 'providers-field-priority').fill('3');
          // Only this model: the generated traffic never routes to the key.
          await (await find(dialog, 'providers-add-model')).click();
          await tid(dialog, 'providers-model-name-0').fill('e2e-xai-only');
          await (await find(dialog, 'providers-add-header')).click();
          await tid(dialog, 'providers-header-name-0').fill('Bad Header');
          await tid(dialog, 'providers-header-value-0').fill('1');
          await tid(dialog, 'providers-editor-save').click();
          await until(
            async () => {
              const now = await tid(dialog, 'providers-field-error').evaluateAll((els) => els.map((e) => e.getAttribute('data-error')));
              return ['baseUrlInvalid', 'weightInvalid', 'headerNameInvalid'].every((e) => now.includes(e)) ? true : undefined;
            },
            { what: 'baseUrlInvalid, weightInvalid and headerNameInvalid messages' },
          );
          await shot('invalid key form');
          assert.equal(await stored(), undefined, 'an invalid form reached CPA');
          await tid(dialog, 'providers-field-base-url').fill('');
          await tid(dialog, 'providers-field-weight').fill('2');
          await tid(dialog, 'providers-header-name-0').fill('X-E2E');
          await tid(dialog, 'providers-editor-save').click();
          await tid(page, 'providers-editor').waitFor({ state: 'detached', timeout: 10_000 });
          const added = await until(stored, { what: `${key} in /xai-api-key` });
          assert.equal(added.weight, 2);
          assert.equal(added.priority, 3);
          assert.deepEqual(added.headers, { 'X-E2E': '1' });
          assert.deepEqual(
            added.models.map((/** @type {any} */ m) => m.name),
            ['e2e-xai-only'],
          );
          const authIndex = added['auth-index'];
          const entry = page.locator(`[data-testid="providers-entry"][data-section="xai"][data-auth-index="${authIndex}"]`);
          await entry.waitFor({ state: 'visible', timeout: 10_000 });
          assert.ok(!((await entry.textContent()) ?? '').includes(key), 'the full API key is shown');

          // The same key (same default base URL) again is refused before anything is sent.
          await (await find(page, 'providers-add-xai')).click();
          dialog = await find(page, 'providers-editor');
          await tid(dialog, 'providers-field-api-key').fill(key);
          await tid(dialog, 'providers-editor-save').click();
          await until(
            async () => {
              const now = await tid(dialog, 'providers-field-error').evaluateAll((els) => els.map((e) => e.getAttribute('data-error')));
              return now.includes('duplicateKey') ? true : undefined;
            },
            { what: 'the duplicateKey message' },
          );
          await page.keyboard.press('Escape');
          await tid(page, 'providers-editor').waitFor({ state: 'detached', timeout: 5000 });
          assert.equal((await list()).filter((e) => e['api-key'] === key).length, 1, 'the duplicate was saved');

          // Disable and enable through /auth-files/status: CPA marks the key with "*" in excluded-models.
          await tid(entry, 'providers-toggle').click();
          await until(async () => ((await stored())?.['excluded-models'] ?? []).includes('*') || undefined, {
            what: 'excluded-models to contain "*"',
          });
          await until(async () => ((await entry.getAttribute('data-disabled')) === 'true' ? true : undefined), {
            what: 'the entry to show disabled',
          });
          await shot('xai disabled');
          await tid(entry, 'providers-toggle').click();
          await until(async () => (!((await stored())?.['excluded-models'] ?? []).includes('*') ? true : undefined), {
            what: 'excluded-models without "*"',
          });

          // Edit the weight: the key, headers and models stay.
          await until(async () => ((await entry.getAttribute('data-disabled')) === 'false' ? true : undefined), {
            what: 'the entry to show enabled',
          });
          await tid(entry, 'providers-edit').click();
          dialog = await find(page, 'providers-editor');
          await tid(dialog, 'providers-field-weight').fill('5');
          await tid(dialog, 'providers-editor-save').click();
          await tid(page, 'providers-editor').waitFor({ state: 'detached', timeout: 10_000 });
          const edited = await until(async () => ((await stored())?.weight === 5 ? stored() : undefined), { what: 'weight 5' });
          assert.deepEqual(edited.headers, { 'X-E2E': '1' });
          assert.equal(edited.priority, 3);
          assert.equal(edited['auth-index'], authIndex);

          await tid(entry, 'providers-delete').click();
          await (await find(page, 'providers-delete-confirm')).click();
          await until(async () => ((await stored()) === undefined ? true : undefined), { what: `${key} gone` });
          await entry.waitFor({ state: 'detached', timeout: 10_000 });
        } finally {
          await cleanup();
        }
      },
      { timeout: 60_000 },
    );

    browserTestBothModes(
      'providers: importing a Vertex service account shows CPA’s answer',
      async ({ page, shot, api, mode, panelUrl }) => {
        const project = `e2e-vertex-${mode}`;
        const fileName = `vertex-${project}.json`;
        const cleanup = () =>
          api.request('/v0/management/auth-files', { method: 'DELETE', query: { name: fileName }, headers: CSRF }).catch(() => {});
        try {
          await page.goto(`${panelUrl}#/providers`);
          await find(page, 'providers-page', { timeout: 8000, hint: HINT });
          await (await find(page, 'providers-vertex-submit', { hint: HINT })).click();
          // Without a file nothing is sent.
          await page.locator('[data-testid="providers-vertex-import"] [role="alert"]').first().waitFor({ timeout: 5000 });
          await (
            await find(page, 'providers-vertex-file')
          ).setInputFiles({
            name: 'sa.json',
            mimeType: 'application/json',
            buffer: Buffer.from(
              JSON.stringify({ type: 'service_account', project_id: project, client_email: `sa@${project}.iam.example` }),
            ),
          });
          await tid(page, 'providers-vertex-location').fill('europe-west4');
          await tid(page, 'providers-vertex-submit').click();
          const result = await find(page, 'providers-vertex-result', { timeout: 10_000 });
          const text = (await result.textContent()) ?? '';
          assert.ok(text.includes(project) && text.includes('europe-west4') && text.includes(fileName), `unexpected result: ${text}`);
          const files = /** @type {any[]} */ ((await api.ok('/v0/management/auth-files')).files);
          assert.ok(
            files.some((f) => f.name === fileName),
            `${fileName} not in /auth-files`,
          );
          await shot('vertex imported');
        } finally {
          await cleanup();
        }
      },
    );

    browserTestBothModes('providers: a connectivity test shows what /api-call answers', async ({ page, shot, api, panelUrl }) => {
      const claude = /** @type {any[]} */ ((await api.ok('/v0/management/claude-api-key'))['claude-api-key']);
      const entry = claude[0];
      assert.ok(entry?.['auth-index'], 'the simulator has no claude-api-key entry');
      const authIndex = entry['auth-index'];
      await page.goto(`${panelUrl}#/providers`);
      await find(page, 'providers-page', { timeout: 8000, hint: HINT });
      const block = page.locator(`[data-testid="providers-entry"][data-section="claude"][data-auth-index="${authIndex}"]`);
      await block.waitFor({ state: 'visible', timeout: 8000 });
      await tid(block, 'providers-test').click();
      const result = await find(block, 'providers-test-result', { timeout: 15_000 });
      const base = (entry['base-url'] || 'https://api.anthropic.com').replace(/\/+$/, '');
      const own = await apiCall(api, {
        auth_index: authIndex,
        method: 'GET',
        url: `${base}/v1/models`,
        header: { 'x-api-key': '$TOKEN$', 'anthropic-version': '2023-06-01' },
      });
      assert.equal(await tid(result, 'providers-test-status').getAttribute('data-status'), String(own.status_code));
      assert.equal(await result.getAttribute('data-state'), own.status_code < 300 ? 'ok' : 'bad');
      if (own.status_code >= 300) {
        assert.ok(((await result.textContent()) ?? '').includes(own.body.trim().slice(0, 40)), 'the error body is not shown');
      }
      await shot('claude tested');
    });

    browserTestBothModes(
      'providers: a credential’s usage is the store’s breakdown for its auth_index',
      async ({ page, shot, api, panelUrl }) => {
        const mock = await compatNamed(api, 'mock');
        const authIndex = mock?.['api-key-entries']?.[0]?.['auth-index'];
        assert.ok(authIndex, 'the mock provider has no auth-index');
        const url = `${panelUrl}#/providers`;
        const requests = page.locator(
          `[data-testid="providers-compat-key"][data-auth-index="${authIndex}"] [data-testid="providers-usage-requests"]`,
        );
        const readApi = async () => {
          const from = await page.locator('[data-testid="providers-page"]').getAttribute('data-usage-from', { timeout: 8000 });
          assert.ok(from, 'the page does not name its usage period');
          const body = await api.ok('/cpam/api/v1/breakdown', { query: { by: 'account', from, top: 0 } });
          return body.rows.find((/** @type {any} */ r) => r.key === authIndex && !r.other)?.attempts ?? 0;
        };
        await page.goto(url);
        await find(page, 'providers-page', { timeout: 8000, hint: HINT });
        const got = await expectCount(requests, readApi, {
          label: 'requests of the mock key',
          trigger: async (round) => {
            if (round > 0) await (await find(page, 'providers-refresh')).click();
          },
        });
        assert.ok(got.shown > 0, 'the generated traffic should have used the mock key');
        await shot('usage');
        await page.setViewportSize({ width: 390, height: 844 });
        await shot('phone width');
      },
    );
  });
}
