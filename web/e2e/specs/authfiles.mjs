// The Auth files page: uploading (file input with two files, pasted JSON),
// disabling, editing fields (note, proxy URL, headers), downloading and
// deleting in one batch reach CPA (the simulator); the excluded-models and
// model-alias editors add and remove entries; the details panel shows CPA's
// answer to a quota reset; the table fits a 1366 px window (light and dark)
// and stays usable on a phone.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { find, tid } from '../lib/browser.mjs';
import { browserTestBothModes } from '../lib/harness.mjs';
import { until } from '../lib/util.mjs';

const HINT = 'is the Auth files page built yet?';
const FILES = '/v0/management/auth-files';
const EXCLUDED = '/v0/management/oauth-excluded-models';
const ALIAS = '/v0/management/oauth-model-alias';
const DEMO = 'claude-demo@example.com.json';
const WRITE = { 'X-CPAM-Request': '1' };

/** @param {{ ok: (path: string) => Promise<any> }} api */
async function listed(api) {
  const doc = await api.ok(FILES);
  return /** @type {any[]} */ (doc.files ?? []);
}

/**
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
function row(page, name) {
  return page.locator(`[data-testid="authfiles-row"][data-name="${name}"]`).first();
}

/**
 * The outcome notice after an action; fails on partial or error.
 * @param {import('playwright-core').Page} page
 * @param {string} what
 */
async function expectOk(page, what) {
  const notice = await find(page, 'authfiles-result', { timeout: 10_000, hint: HINT });
  await until(async () => ((await notice.getAttribute('data-state')) === 'ok' ? true : undefined), {
    timeout: 10_000,
    what: `${what} to succeed (notice: ${await notice.textContent().catch(() => '?')})`,
  });
}

/**
 * Uploads a file through the API (raw JSON body).
 * @param {{ ok: (path: string, options?: any) => Promise<any> }} api
 * @param {string} name
 * @param {object} content
 */
async function uploadRaw(api, name, content) {
  await api.ok(FILES, {
    method: 'POST',
    query: { name },
    body: JSON.stringify(content),
    headers: { ...WRITE, 'Content-Type': 'application/json' },
  });
}

/**
 * The file as CPA stores it, parsed.
 * @param {{ request: (path: string, options?: any) => Promise<any> }} api
 * @param {string} name
 */
async function stored(api, name) {
  const res = await api.request(`${FILES}/download`, { query: { name } });
  assert.equal(res.status, 200, `download of ${name}: HTTP ${res.status} ${res.text.slice(0, 200)}`);
  return JSON.parse(res.text);
}

/**
 * Opens the field dialog of a row and waits until it has read the file.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
async function openFields(page, name) {
  await tid(row(page, name), 'authfiles-edit').click();
  const dialog = await find(page, 'authfiles-fields-dialog', { hint: HINT });
  const proxy = tid(dialog, 'authfiles-field-proxy');
  await until(async () => ((await proxy.isEnabled()) ? true : undefined), { what: 'the dialog to read the file' });
  return dialog;
}

/**
 * How the credentials table sits in the window: whether it scrolls sideways,
 * where the cost header ends, and the tallest file-name link.
 * @param {import('playwright-core').Page} page
 */
function tableLayout(page) {
  return page.evaluate(() => {
    const wrap = /** @type {HTMLElement} */ (document.querySelector('[data-testid="authfiles-table"] .table-wrap'));
    const heads = [...document.querySelectorAll('[data-testid="authfiles-table"] thead th')];
    const cost = heads[heads.length - 2]?.getBoundingClientRect();
    const links = [...document.querySelectorAll('[data-testid="authfiles-details"]')].map((a) => a.getBoundingClientRect().height);
    const line = parseFloat(
      getComputedStyle(/** @type {Element} */ (document.querySelector('[data-testid="authfiles-details"]'))).lineHeight,
    );
    return {
      scrolls: wrap.scrollWidth > wrap.clientWidth + 1,
      docScrolls: document.documentElement.scrollWidth > window.innerWidth + 1,
      costRight: cost ? cost.right : Infinity,
      viewport: window.innerWidth,
      tallestName: Math.max(...links),
      lineHeight: Number.isFinite(line) ? line : 20,
      theme: document.documentElement.dataset.theme,
      bodyBg: getComputedStyle(document.body).backgroundColor,
    };
  });
}

export default function authfiles() {
  describe('auth files', () => {
    browserTestBothModes(
      '14a auth files: upload two files and pasted JSON, disable, edit a note, batch delete',
      async ({ page, shot, api, mode, panelUrl }) => {
        const names = [`e2e-af-${mode}-one.json`, `e2e-af-${mode}-two.json`, `e2e-af-${mode}-pasted.json`];
        const cleanup = () => api.request(FILES, { method: 'DELETE', body: { names }, headers: WRITE }).catch(() => {});
        await cleanup();
        try {
          await page.goto(`${panelUrl}#/auth-files`);
          await find(page, 'auth-files-page', { timeout: 8000, hint: HINT });
          await find(page, 'authfiles-row', { timeout: 10_000, hint: 'the demo auth files are not listed' });

          // Two files in one pick.
          await tid(page, 'authfiles-upload-input').setInputFiles([
            {
              name: names[0],
              mimeType: 'application/json',
              buffer: Buffer.from(JSON.stringify({ type: 'claude', email: `one-${mode}@example.com` })),
            },
            {
              name: names[1],
              mimeType: 'application/json',
              buffer: Buffer.from(JSON.stringify({ type: 'codex', email: `two-${mode}@example.com` })),
            },
          ]);
          await expectOk(page, 'the two-file upload');
          await row(page, names[1]).waitFor({ state: 'visible', timeout: 8000 });

          // A pasted file (the form opens on demand): a bad JSON is refused here first.
          await tid(page, 'authfiles-paste-toggle').click();
          await (await find(page, 'authfiles-paste-name', { hint: HINT })).fill(names[2]);
          await tid(page, 'authfiles-paste-json').fill('{"type": "gemini",');
          await tid(page, 'authfiles-paste-submit').click();
          await find(page, 'authfiles-paste-error', { hint: 'invalid JSON was not refused in the page' });
          await tid(page, 'authfiles-paste-json').fill(
            JSON.stringify({ type: 'gemini', email: `pasted-${mode}@example.com`, project_id: 'e2e-project' }),
          );
          await tid(page, 'authfiles-paste-submit').click();
          await expectOk(page, 'the pasted upload');
          await shot('uploaded');

          await until(
            async () => {
              const have = (await listed(api)).map((f) => f.name);
              return names.every((n) => have.includes(n)) ? true : undefined;
            },
            { what: 'the three files in GET /auth-files' },
          );
          const pasted = (await listed(api)).find((f) => f.name === names[2]);
          assert.equal(pasted.email, `pasted-${mode}@example.com`, 'the pasted file has another content');
          await row(page, names[2]).waitFor({ state: 'visible', timeout: 8000 });

          // Disable the first file.
          await tid(row(page, names[0]), 'authfiles-toggle').click();
          await until(async () => ((await listed(api)).find((f) => f.name === names[0])?.disabled === true ? true : undefined), {
            what: `${names[0]} disabled in CPA`,
          });
          await until(async () => ((await row(page, names[0]).getAttribute('data-disabled')) === 'true' ? true : undefined), {
            what: 'the row to show the file disabled',
          });
          const others = await listed(api);
          assert.equal(others.find((f) => f.name === names[1])?.disabled, false, 'another file was disabled too');

          // Edit the note of the second file.
          const note = `e2e note ${mode}`;
          await tid(row(page, names[1]), 'authfiles-edit').click();
          await find(page, 'authfiles-fields-dialog', { hint: HINT });
          await (await find(page, 'authfiles-field-note', { hint: HINT })).fill(note);
          const save = tid(page, 'authfiles-fields-save');
          await until(async () => ((await save.isEnabled()) ? true : undefined), { what: 'the save button to be enabled' });
          await shot('editing note');
          await save.click();
          await expectOk(page, 'saving the note');
          await until(async () => ((await listed(api)).find((f) => f.name === names[1])?.note === note ? true : undefined), {
            what: 'the note in CPA',
          });
          await until(async () => ((await tid(row(page, names[1]), 'authfiles-note').textContent()) === note ? true : undefined), {
            what: 'the note in the table',
          });
          const after = (await listed(api)).find((f) => f.name === names[1]);
          assert.equal(after.priority, undefined, 'fields that were not changed were sent (priority set)');

          // Delete all three in one batch.
          for (const n of names) await tid(row(page, n), 'authfiles-select').check();
          assert.equal(
            await tid(page, 'authfiles-selected-count').getAttribute('data-count'),
            '3',
            'the selection does not count three files',
          );
          await tid(page, 'authfiles-batch-delete').click();
          const dialog = await find(page, 'authfiles-delete-dialog', { hint: HINT });
          assert.equal(await dialog.locator('li').count(), 3, 'the confirmation does not list the three files');
          await shot('confirm delete');
          await tid(page, 'authfiles-delete-confirm').click();
          await expectOk(page, 'the batch delete');
          await until(
            async () => {
              const have = (await listed(api)).map((f) => f.name);
              return names.every((n) => !have.includes(n)) ? true : undefined;
            },
            { what: 'the three files gone from GET /auth-files' },
          );
          await until(
            async () => ((await page.locator('[data-testid="authfiles-row"][data-name^="e2e-af-"]').count()) === 0 ? true : undefined),
            {
              what: 'the rows gone from the table',
            },
          );
          assert.ok(
            (await listed(api)).some((f) => f.name === 'claude-demo@example.com.json'),
            'the batch deleted other files',
          );
          await shot('deleted');
        } finally {
          await cleanup();
        }
      },
      { timeout: 60_000 },
    );

    browserTestBothModes(
      '14b auth files: the excluded-models editor adds and removes a pattern',
      async ({ page, shot, api, mode, panelUrl }) => {
        const provider = `e2e-${mode}`;
        const pattern = `e2e-model-${mode}-*`;
        const cleanup = () => api.request(EXCLUDED, { method: 'DELETE', query: { provider }, headers: WRITE }).catch(() => {});
        await cleanup();
        try {
          await page.goto(`${panelUrl}#/auth-files`);
          await find(page, 'auth-files-page', { timeout: 8000, hint: HINT });
          await (await find(page, 'authfiles-tab-excluded', { hint: HINT })).click();
          await (await find(page, 'authfiles-excluded-provider', { hint: HINT })).fill(provider);
          await tid(page, 'authfiles-excluded-patterns').fill(pattern);
          await tid(page, 'authfiles-excluded-add').click();
          await until(async () => ((await api.ok(EXCLUDED))['oauth-excluded-models']?.[provider]?.includes(pattern) ? true : undefined), {
            what: `${pattern} for ${provider} in GET /oauth-excluded-models`,
          });
          const chip = page.locator(
            `[data-testid="authfiles-excluded-row"][data-provider="${provider}"] [data-testid="authfiles-excluded-pattern"][data-pattern="${pattern}"]`,
          );
          await chip.waitFor({ state: 'visible', timeout: 8000 });
          await shot('pattern added');
          await tid(chip, 'authfiles-excluded-remove').click();
          await until(async () => ((await api.ok(EXCLUDED))['oauth-excluded-models']?.[provider] === undefined ? true : undefined), {
            what: `${provider} gone from GET /oauth-excluded-models`,
          });
          await until(async () => ((await chip.count()) === 0 ? true : undefined), { what: 'the pattern gone from the page' });

          // The models CPA serves with a file, in its details panel.
          const demo = 'claude-demo@example.com.json';
          const models = (await api.ok(`${FILES}/models?name=${encodeURIComponent(demo)}`)).models ?? [];
          assert.ok(models.length > 0, 'the simulator lists no models for the demo file');
          await tid(page.locator(`[data-testid="authfiles-row"][data-name="${demo}"]`), 'authfiles-details').click();
          const drawer = await find(page, 'authfiles-drawer', { hint: HINT });
          const list = await find(drawer, 'authfiles-models', { timeout: 8000, hint: 'the models of the file are not shown' });
          assert.equal(await list.locator('li').count(), models.length, 'the panel lists another number of models than the API');
          assert.ok((await list.innerText()).includes(models[0].id), `model ${models[0].id} is not shown`);
          await shot('details');
          await tid(drawer, 'authfiles-drawer-close').click();
          await drawer.waitFor({ state: 'detached', timeout: 5000 });
          await tid(page, 'authfiles-tab-alias').click();
          await find(page, 'authfiles-alias-new-channel', { hint: HINT });
        } finally {
          await cleanup();
        }
      },
    );

    browserTestBothModes(
      '14c auth files: download returns the uploaded file; proxy URL and a header are stored, then the header removed',
      async ({ page, shot, api, mode, panelUrl }) => {
        const name = `e2e-af-${mode}-fields.json`;
        const content = { type: 'claude', email: `fields-${mode}@example.com`, access_token: 'e2e-not-a-real-token', expired: false };
        const cleanup = () => api.request(FILES, { method: 'DELETE', query: { name }, headers: WRITE }).catch(() => {});
        await cleanup();
        try {
          await uploadRaw(api, name, content);
          await page.goto(`${panelUrl}#/auth-files`);
          await find(page, 'auth-files-page', { timeout: 8000, hint: HINT });
          await row(page, name).waitFor({ state: 'visible', timeout: 10_000 });

          // Download: the browser saves exactly what was uploaded.
          const [download] = await Promise.all([
            page.waitForEvent('download', { timeout: 10_000 }),
            tid(row(page, name), 'authfiles-download').click(),
          ]);
          assert.equal(download.suggestedFilename(), name, 'the download has another file name');
          const stream = await download.createReadStream();
          /** @type {Buffer[]} */
          const chunks = [];
          for await (const c of stream) chunks.push(/** @type {Buffer} */ (c));
          assert.deepEqual(JSON.parse(Buffer.concat(chunks).toString('utf8')), content, 'the downloaded file differs from the upload');

          // Proxy URL and one header.
          const proxy = `socks5://127.0.0.1:${mode === 'cpa' ? 1081 : 1080}`;
          const headerValue = `e2e-${mode}`;
          let dialog = await openFields(page, name);
          await tid(dialog, 'authfiles-field-proxy').fill(proxy);
          assert.equal(await tid(dialog, 'authfiles-field-header-key').count(), 0, 'the new file already shows a header');
          await tid(dialog, 'authfiles-field-header-add').click();
          await tid(dialog, 'authfiles-field-header-key').fill('X-E2E-Test');
          await tid(dialog, 'authfiles-field-header-value').fill(headerValue);
          await shot('proxy and header');
          await tid(page, 'authfiles-fields-save').click();
          await expectOk(page, 'saving proxy and header');
          await dialog.waitFor({ state: 'detached', timeout: 5000 });
          const saved = await until(
            async () => {
              const doc = await stored(api, name);
              return doc.proxy_url === proxy ? doc : undefined;
            },
            { what: 'proxy_url in the stored file' },
          );
          assert.deepEqual(saved.headers, { 'X-E2E-Test': headerValue }, 'the header is not stored as entered');
          assert.equal(saved.email, content.email, 'saving the fields changed other content');
          assert.equal(saved.access_token, content.access_token, 'saving the fields changed the token');

          // The dialog reads them back; removing the header deletes it from the file.
          dialog = await openFields(page, name);
          assert.equal(await tid(dialog, 'authfiles-field-proxy').inputValue(), proxy, 'the dialog does not show the stored proxy');
          assert.equal(
            await tid(dialog, 'authfiles-field-header-value').inputValue(),
            headerValue,
            'the dialog does not show the stored header',
          );
          await tid(dialog, 'authfiles-field-header-remove').click();
          assert.equal(await tid(dialog, 'authfiles-field-header-key').count(), 0, 'the header row was not removed');
          await tid(page, 'authfiles-fields-save').click();
          await expectOk(page, 'removing the header');
          const cleared = await until(
            async () => {
              const doc = await stored(api, name);
              return doc.headers === undefined ? doc : undefined;
            },
            { what: 'the header gone from the stored file' },
          );
          assert.equal(cleared.proxy_url, proxy, 'removing the header also changed the proxy URL');
        } finally {
          await cleanup();
        }
      },
      { timeout: 60_000 },
    );

    browserTestBothModes(
      '14d auth files: the model-alias editor adds a channel with an alias and deletes it',
      async ({ page, shot, api, mode, panelUrl }) => {
        const channel = `e2e-alias-${mode}`;
        const model = `e2e-upstream-${mode}`;
        const alias = `e2e-alias-${mode}-name`;
        const cleanup = () => api.request(ALIAS, { method: 'DELETE', query: { channel }, headers: WRITE }).catch(() => {});
        /** @returns {Promise<any[] | undefined>} */
        const aliasesOf = async () => (await api.ok(ALIAS))['oauth-model-alias']?.[channel];
        await cleanup();
        try {
          await page.goto(`${panelUrl}#/auth-files`);
          await find(page, 'auth-files-page', { timeout: 8000, hint: HINT });
          await (await find(page, 'authfiles-tab-alias', { hint: HINT })).click();
          await (await find(page, 'authfiles-alias-new-channel', { hint: HINT })).fill(channel);
          await tid(page, 'authfiles-alias-add-channel').click();
          const section = page.locator(`[data-testid="authfiles-alias-channel"][data-channel="${channel}"]`);
          await section.waitFor({ state: 'visible', timeout: 5000 });
          // Nothing is stored before Save.
          assert.equal(await aliasesOf(), undefined, 'the channel was stored before saving');
          await tid(section, 'authfiles-alias-name').fill(model);
          await tid(section, 'authfiles-alias-alias').fill(alias);
          await tid(section, 'authfiles-alias-fork').check();
          await shot('alias draft');
          await tid(section, 'authfiles-alias-save').click();
          const list = await until(
            async () => {
              const v = await aliasesOf();
              return Array.isArray(v) && v.length > 0 ? v : undefined;
            },
            { what: `${channel} in GET /oauth-model-alias` },
          );
          assert.equal(list.length, 1, 'another number of aliases was stored');
          assert.equal(list[0].name, model);
          assert.equal(list[0].alias, alias);
          assert.equal(list[0].fork, true, 'fork was not stored');
          await until(async () => ((await tid(section, 'authfiles-alias-save').isDisabled()) ? true : undefined), {
            what: 'the channel to show as saved',
          });

          await tid(section, 'authfiles-alias-delete').click();
          await until(async () => ((await aliasesOf()) === undefined ? true : undefined), {
            what: `${channel} gone from GET /oauth-model-alias`,
          });
          await until(async () => ((await section.count()) === 0 ? true : undefined), { what: 'the channel gone from the page' });
        } finally {
          await cleanup();
        }
      },
    );

    browserTestBothModes(
      "14e auth files: quota reset shows CPA's answer; the table fits 1366 px (light and dark) and a phone",
      async ({ page, shot, api, panelUrl }) => {
        await page.goto(`${panelUrl}#/auth-files`);
        await find(page, 'auth-files-page', { timeout: 8000, hint: HINT });
        await row(page, DEMO).waitFor({ state: 'visible', timeout: 10_000 });

        // 1366 × 900: no sideways scrolling, the usage columns in view, file names on one line.
        let layout = await tableLayout(page);
        assert.equal(layout.scrolls, false, 'the credentials table scrolls sideways at 1366 px');
        assert.equal(layout.docScrolls, false, 'the page scrolls sideways at 1366 px');
        assert.ok(
          layout.costRight <= layout.viewport,
          `the cost column ends at ${layout.costRight}px, past the ${layout.viewport}px window`,
        );
        assert.ok(layout.tallestName < layout.lineHeight * 1.5, `a file name wraps (${layout.tallestName}px high)`);
        const demoName = tid(row(page, DEMO), 'authfiles-details');
        assert.equal(await demoName.getAttribute('title'), DEMO, 'the full file name is not in the title');
        // A shortened long name keeps its end in view ("…com-plus.json").
        const codex = 'codex-demo@example.com-plus.json';
        const tail = row(page, codex).locator('.af-name-tail');
        assert.ok(await tail.isVisible(), `the end of ${codex} is not shown`);
        assert.ok(codex.endsWith(await tail.innerText()), 'the shown end is not the end of the name');
        assert.equal(
          await tid(row(page, codex), 'authfiles-details').getAttribute('aria-label'),
          codex,
          'the name link is not labelled with the full name',
        );
        await tid(page, 'authfiles-usage-head').scrollIntoViewIfNeeded();
        await shot('1366 light');

        // The quota reset answers with the models CPA cleared.
        const entry = (await listed(api)).find((f) => f.name === DEMO);
        assert.ok(entry?.auth_index, 'the demo file has no auth_index');
        const expected = await api.ok('/v0/management/reset-quota', {
          method: 'POST',
          body: { auth_index: entry.auth_index },
          headers: WRITE,
        });
        assert.ok(Array.isArray(expected.models) && expected.models.length > 0, 'the simulator reset no models');
        await demoName.click();
        const drawer = await find(page, 'authfiles-drawer', { hint: HINT });
        await tid(drawer, 'authfiles-reset-quota').click();
        const result = await find(drawer, 'authfiles-reset-result', { timeout: 8000, hint: 'the reset answer is not shown' });
        assert.equal(await result.getAttribute('data-count'), String(expected.models.length), 'the panel shows another number of models');
        const text = await tid(drawer, 'authfiles-reset-models').innerText();
        for (const m of expected.models) assert.ok(text.includes(m), `model ${m} of the reset answer is not shown`);
        await shot('quota reset');
        await tid(drawer, 'authfiles-drawer-close').click();
        await drawer.waitFor({ state: 'detached', timeout: 5000 });

        // Dark theme (the default theme follows the system).
        await page.emulateMedia({ colorScheme: 'dark' });
        await until(async () => ((await tableLayout(page)).theme === 'dark' ? true : undefined), { what: 'the dark theme' });
        layout = await tableLayout(page);
        assert.equal(layout.scrolls, false, 'the table scrolls sideways in the dark theme');
        await page.evaluate(() => window.scrollTo(0, 0));
        await shot('1366 dark');
        await page.emulateMedia({ colorScheme: 'light' });

        // Phone: the page itself does not scroll sideways; the table scrolls inside its card.
        await page.setViewportSize({ width: 390, height: 844 });
        await until(async () => ((await tableLayout(page)).viewport === 390 ? true : undefined), { what: 'the phone viewport' });
        layout = await tableLayout(page);
        assert.equal(layout.docScrolls, false, 'the page scrolls sideways at phone width');
        const pick = tid(page, 'authfiles-upload-pick');
        assert.ok(await pick.isVisible(), 'the upload button is not visible on a phone');
        const box = await demoName.boundingBox();
        assert.ok(box && box.width > 100, 'the file name column is squeezed on a phone');
        await page.evaluate(() => window.scrollTo(0, 0));
        await shot('phone');
      },
      { timeout: 60_000 },
    );
  });
}
