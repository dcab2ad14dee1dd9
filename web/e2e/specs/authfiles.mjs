// The Auth files page: uploading (file input with two files, pasted JSON),
// disabling, editing a field and deleting in one batch reach CPA (the
// simulator); the excluded-models editor adds and removes a pattern.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { find, tid } from '../lib/browser.mjs';
import { browserTestBothModes } from '../lib/harness.mjs';
import { until } from '../lib/util.mjs';

const HINT = 'is the Auth files page built yet?';
const FILES = '/v0/management/auth-files';
const EXCLUDED = '/v0/management/oauth-excluded-models';
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

          // A pasted file: a bad JSON is refused here first.
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
  });
}
