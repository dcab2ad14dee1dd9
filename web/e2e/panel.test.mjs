// Browser tests of the panel against the real stack (see lib/stack.mjs):
//   cd web && npm run test:browser
// One stack and one Chromium for the run; each test gets a fresh context.
// CPAM_E2E_SPECS=providers,authfiles runs only those spec files (names as
// below); CPAM_E2E_PORT_OFFSET lets two runs share a machine.
import { after, before } from 'node:test';
import { setup, teardown } from './lib/harness.mjs';
import apiKeys from './specs/apikeys.mjs';
import authFiles from './specs/authfiles.mjs';
import config from './specs/config.mjs';
import foundation from './specs/foundation.mjs';
import importExport from './specs/importexport.mjs';
import inspection from './specs/inspection.mjs';
import logs from './specs/logs.mjs';
import monitoring from './specs/monitoring.mjs';
import oauth from './specs/oauth.mjs';
import pricing from './specs/pricing.mjs';
import providers from './specs/providers.mjs';
import quota from './specs/quota.mjs';

/** Spec files in run order. */
const specs = {
  foundation,
  monitoring,
  pricing,
  importexport: importExport,
  apikeys: apiKeys,
  config,
  logs,
  providers,
  authfiles: authFiles,
  oauth,
  quota,
  inspection,
};

function selected() {
  const raw = (process.env.CPAM_E2E_SPECS ?? '').trim();
  if (raw === '') return Object.keys(specs);
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(n in specs));
  if (unknown.length > 0) {
    throw new Error(`CPAM_E2E_SPECS names unknown spec files: ${unknown.join(', ')}; known: ${Object.keys(specs).join(', ')}`);
  }
  return names;
}

before(setup, { timeout: 90_000 });
after(teardown, { timeout: 30_000 });

for (const name of selected()) specs[/** @type {keyof typeof specs} */ (name)]();
