// The Import/export page: re-importing exported events adds nothing.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { find, marks, tid } from '../lib/browser.mjs';
import { browserTest } from '../lib/harness.mjs';
import { PANEL_URL } from '../lib/stack.mjs';
import { sleep, until } from '../lib/util.mjs';

const HINT = 'is the Import/export page built yet?';
const LINES = 5;

export default function importExport() {
  describe('import/export', () => {
    browserTest('7 import/export: re-importing exported lines skips them all', async ({ page, shot, api }) => {
      const exported = await api.ok('/cpam/v0/management/usage/export', { headers: { Accept: 'application/x-ndjson' } });
      const lines = String(exported)
        .split('\n')
        .filter((l) => l.trim() !== '')
        .slice(0, LINES);
      assert.equal(lines.length, LINES, `the export has only ${lines.length} lines`);
      for (const l of lines) assert.equal(JSON.parse(l).schema, 'cpam.event.v1');

      await page.goto(`${PANEL_URL}#/import-export`);
      await find(page, 'importexport-page', { timeout: 8000, hint: HINT });
      // Hold the upload's answer a moment, so the progress state is on screen
      // long enough to photograph (it is also caught by the DOM marks).
      await page.route(/\/usage\/import/, async (route) => {
        await sleep(1000);
        await route.continue();
      });
      const file = await find(page, 'import-file', { state: 'attached', hint: HINT });
      await file.setInputFiles({
        name: 'cpam-export.ndjson',
        mimeType: 'application/x-ndjson',
        buffer: Buffer.from(lines.join('\n') + '\n'),
      });
      await (await find(page, 'import-submit', { hint: HINT })).click();

      await until(
        async () => {
          const m = await marks(page);
          const clicked = m.clicks['import-submit'] ?? 0;
          if ((m.seen['import-progress'] ?? -1) >= clicked) return true;
          return (await tid(page, 'import-progress').first().isVisible()) ? true : undefined;
        },
        { timeout: 5000, what: 'element [data-testid="import-progress"] after import-submit' },
      );
      if (await tid(page, 'import-progress').first().isVisible()) await shot('progress');

      const result = await find(page, 'import-result', { timeout: 15_000, hint: HINT });
      await shot('result');
      assert.equal(await result.getAttribute('data-skipped'), String(LINES), 'data-skipped of import-result');
      assert.equal(await result.getAttribute('data-added'), '0', 'data-added of import-result');
      const failed = await result.getAttribute('data-failed');
      if (failed !== null) assert.equal(failed, '0', 'data-failed of import-result');
    });
  });
}
