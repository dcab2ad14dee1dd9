// Browser tests of the panel against the real stack (see lib/stack.mjs):
//   cd web && npm run test:browser
// One stack and one Chromium for the run; each test gets a fresh context.
import { after, before } from 'node:test';
import { setup, teardown } from './lib/harness.mjs';
import apiKeys from './specs/apikeys.mjs';
import config from './specs/config.mjs';
import foundation from './specs/foundation.mjs';
import importExport from './specs/importexport.mjs';
import logs from './specs/logs.mjs';
import monitoring from './specs/monitoring.mjs';
import pricing from './specs/pricing.mjs';

before(setup, { timeout: 90_000 });
after(teardown, { timeout: 30_000 });

foundation();
monitoring();
pricing();
importExport();
apiKeys();
config();
logs();
