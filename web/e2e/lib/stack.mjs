// The stack under test, started once per run from the built binaries: the
// CPA simulator with generated traffic, a local LiteLLM-shaped price list,
// and Caddy with caddy-cpam serving the panel from web/dist. Everything is
// killed on exit, failure or signal; logs stay in the temp dir.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants as fsc, appendFileSync, openSync, closeSync, readFileSync, existsSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { access, mkdtemp } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApi } from './api.mjs';
import { sleep, until } from './util.mjs';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * CPAM_E2E_PORT_OFFSET (0–999) shifts every port, so two runs can share a
 * machine (for example one per page being worked on).
 */
function portOffset() {
  const raw = process.env.CPAM_E2E_PORT_OFFSET ?? '';
  if (raw === '') return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 999) {
    throw new Error(`CPAM_E2E_PORT_OFFSET=${raw}: give a whole number from 0 to 999`);
  }
  return n;
}
const OFFSET = portOffset();

/** Ports of this suite; other stacks on the machine use 18xxx/38xxx/48xxx and 2999/9443/2989. */
export const PORTS = { sim: 28317 + OFFSET, https: 28443 + OFFSET, http: 28080 + OFFSET, admin: 22019 + OFFSET };
export const ORIGIN = `https://localhost:${PORTS.https}`;
export const PANEL_URL = `${ORIGIN}/management.html`;
/** CPA panel mode: the same panel served by the simulator, as CPA serves its own. */
export const SIM_ORIGIN = `http://127.0.0.1:${PORTS.sim}`;
export const CPA_PANEL_URL = `${SIM_ORIGIN}/management.html`;
/** What a CPA panel mode user types as the usage-service URL. */
export const USAGE_URL = `${ORIGIN}/cpam`;

/** Client keys the simulator's default config has and the generated traffic uses. */
export const CLIENT_KEYS = ['sk-cpa-test-1', 'sk-cpa-test-2'];
export const TRAFFIC_MODELS = ['mock-gpt', 'claude-sonnet-4-5', 'gpt-5-codex', 'gemini-2.5-pro'];
/** What the local price list charges for mock-gpt, in USD per 1M tokens. */
export const MOCK_GPT_PRICE = { input: 2, output: 8 };

/** @param {string} file */
async function requireExecutable(file) {
  try {
    await access(file, fsc.X_OK);
  } catch {
    throw new Error(`${file} is missing or not executable: run make build first (at the repo root, ${REPO})`);
  }
}

/** Resolves true when something accepts connections on host:port. */
function portBusy(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.setTimeout(500);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(false));
  });
}

/** @param {string} s a Caddyfile token, quoted */
const q = (s) => JSON.stringify(s);

/**
 * @param {{ dir: string, pricePort: number, panelFile: string }} o
 */
function caddyfile({ dir, pricePort, panelFile }) {
  return `{
	admin localhost:${PORTS.admin}
	http_port ${PORTS.http}
	https_port ${PORTS.https}
	local_certs
	skip_install_trust
	storage file_system ${q(path.join(dir, 'caddy-storage'))}
	cpam {
		cpa http://127.0.0.1:${PORTS.sim} {
			management_key {env.CPAM_E2E_MANAGEMENT_KEY}
		}
		admin_key {env.CPAM_E2E_ADMIN_KEY}
		cors_origins ${SIM_ORIGIN}
		database ${q(path.join(dir, 'cpam.db'))}
		price_sources {
			models_dev off
			litellm http://127.0.0.1:${pricePort}/litellm.json
			openrouter off
		}
	}
}

localhost:${PORTS.https} {
	cpam_panel {
		file ${q(panelFile)}
	}
	cpam_api
	cpam_management
	reverse_proxy 127.0.0.1:${PORTS.sim} {
		flush_interval -1
	}
}
`;
}

/** A LiteLLM model_prices_and_context_window.json with the one model the suite prices. */
function litellmCatalogue() {
  return JSON.stringify({
    sample_spec: { input_cost_per_token: 0, output_cost_per_token: 0, litellm_provider: 'openai', mode: 'chat' },
    'mock-gpt': {
      input_cost_per_token: MOCK_GPT_PRICE.input / 1e6,
      output_cost_per_token: MOCK_GPT_PRICE.output / 1e6,
      litellm_provider: 'openai',
      mode: 'chat',
    },
  });
}

/**
 * @typedef {object} Stack
 * @property {string} dir temp dir with the Caddyfile, database and logs
 * @property {string} adminKey
 * @property {string} managementKey the simulator's (CPA's) management key
 * @property {import('./api.mjs').Api} api
 * @property {{ requests: number }} priceServer
 * @property {string[]} logs
 * @property {(opts?: { failed?: boolean }) => Promise<void>} stop
 */

/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set();

/** Temp dirs of running stacks, named when the run is interrupted. */
const runningDirs = new Set();

/** Kills every child still running, at once (for exit and signals). */
function killAllNow() {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/**
 * Stops at once: the test runner follows a Ctrl-C with SIGTERM and does not
 * wait, so nothing asynchronous would finish. Exit listeners then kill the
 * browser (Playwright's) and remove its temp dir (launchBrowser's).
 * @param {string} why
 * @param {number} code
 */
function interrupted(why, code) {
  killAllNow();
  for (const d of runningDirs) console.error(`${why}: stack logs in ${d}`);
  process.exit(code);
}

let handlersInstalled = false;
/** Kills the stack's processes on exit, signals, and when the test runner goes away. */
export function installExitHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllNow);
  for (const [sig, code] of /** @type {const} */ ([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ])) {
    process.once(sig, () => interrupted(`interrupted (${sig})`, code));
  }
  // The test runner runs this file in a child process; if the runner dies
  // without a signal reaching us, we are re-parented: stop then too.
  const parent = process.ppid;
  const watchdog = setInterval(() => {
    if (process.ppid !== parent) interrupted('the test runner went away', 1);
  }, 1000);
  watchdog.unref();
}

/**
 * @param {string} name
 * @param {string} file
 * @param {string[]} args
 * @param {{ env: NodeJS.ProcessEnv, cwd: string, log: string }} o
 */
function start(name, file, args, { env, cwd, log }) {
  const fd = openSync(log, 'a');
  const child = spawn(file, args, { cwd, env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  children.add(child);
  /** @type {Promise<void>} */
  const exited = new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (e) => {
      appendFileSync(log, `\n${name} could not be started: ${e.message}\n`);
      resolve();
    });
  });
  child.once('exit', () => children.delete(child));
  return { name, child, exited, log };
}

/** @param {string} file */
function tail(file, lines = 25) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts the stack and waits until Caddy answers and the collector has stored
 * traffic.
 * @returns {Promise<Stack>}
 */
export async function startStack() {
  installExitHandlers();
  const caddyBin = path.join(REPO, 'bin/caddy');
  const simBin = path.join(REPO, 'bin/cpa-sim');
  await requireExecutable(caddyBin);
  await requireExecutable(simBin);
  // The built panel, read by cpam_panel on every load: a rebuilt panel needs
  // no Go rebuild. CPAM_E2E_PANEL_FILE points at another build.
  const panelFile = path.resolve(process.env.CPAM_E2E_PANEL_FILE || path.join(REPO, 'web/dist/management.html'));
  if (!existsSync(panelFile)) throw new Error(`${panelFile} is missing: run npm run build in web/ first`);

  for (const [what, port] of Object.entries(PORTS)) {
    if (await portBusy(port)) {
      throw new Error(
        `port ${port} (${what}) is already in use: another browser-test run, or something else, listens there; stop it and try again`,
      );
    }
  }

  const dir = await mkdtemp(path.join(os.tmpdir(), 'cpam-e2e-'));
  for (const d of ['data', 'config', 'caddy-storage']) mkdirSync(path.join(dir, d), { recursive: true });
  const adminKey = randomBytes(24).toString('hex');
  const managementKey = randomBytes(24).toString('hex');

  // The price catalogue: a LiteLLM-shaped list on an ephemeral loopback port.
  const priceServer = { requests: 0 };
  const catalogue = litellmCatalogue();
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/litellm.json')) {
      priceServer.requests++;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(catalogue);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(undefined));
  });
  const address = server.address();
  const pricePort = typeof address === 'object' && address ? address.port : 0;

  const caddyConfig = path.join(dir, 'Caddyfile');
  writeFileSync(caddyConfig, caddyfile({ dir, pricePort, panelFile }));

  const env = {
    ...process.env,
    XDG_DATA_HOME: path.join(dir, 'data'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
  };
  delete env.NODE_OPTIONS;
  const sim = start(
    'cpa-sim',
    simBin,
    [
      '-addr',
      `127.0.0.1:${PORTS.sim}`,
      '-traffic-rate',
      process.env.CPAM_E2E_TRAFFIC_RATE ?? '3',
      '-traffic-models',
      TRAFFIC_MODELS.join(','),
      '-traffic-keys',
      CLIENT_KEYS.join(','),
      '-traffic-failure-ratio',
      '0.15',
      '-panel-file',
      panelFile,
      '-device-auto-approve',
      '2s',
    ],
    { env: { ...env, CPA_SIM_MANAGEMENT_KEY: managementKey }, cwd: dir, log: path.join(dir, 'cpa-sim.log') },
  );
  const caddy = start('caddy', caddyBin, ['run', '--config', caddyConfig, '--adapter', 'caddyfile'], {
    env: { ...env, CPAM_E2E_MANAGEMENT_KEY: managementKey, CPAM_E2E_ADMIN_KEY: adminKey },
    cwd: dir,
    log: path.join(dir, 'caddy.log'),
  });
  const procs = [sim, caddy];
  runningDirs.add(dir);
  const logs = procs.map((p) => p.log);

  let stopped = false;
  /** @param {{ failed?: boolean }} [opts] */
  const stop = async ({ failed = false } = {}) => {
    if (stopped) return;
    stopped = true;
    runningDirs.delete(dir);
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    await Promise.race([Promise.all(procs.map((p) => p.exited)), sleep(5000)]);
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await new Promise((resolve) => server.close(() => resolve(undefined)));
    // On a failure (or CPAM_E2E_KEEP=1) the logs stay; the caller names the dir.
    if (!failed && process.env.CPAM_E2E_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  };

  /** @param {string} why */
  const fail = async (why) => {
    const detail = procs.map((p) => `--- ${p.log} (last lines)\n${tail(p.log)}`).join('\n');
    await stop({ failed: true });
    return new Error(`${why}\n${detail}\nlogs: ${dir}`);
  };

  const exitedEarly = () => procs.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);

  // Caddy's internal CA writes its root on start; requests from Node verify
  // against it instead of switching certificate checks off.
  const rootCert = path.join(dir, 'caddy-storage/pki/authorities/local/root.crt');
  /** @type {import('./api.mjs').Api | undefined} */
  let api;
  try {
    api = await until(
      async () => {
        const gone = exitedEarly();
        if (gone)
          throw Object.assign(new Error(`${gone.name} exited early (code ${gone.child.exitCode ?? gone.child.signalCode})`), {
            fatal: true,
          });
        if (!existsSync(rootCert)) return undefined;
        const candidate = createApi({ origin: ORIGIN, adminKey, ca: readFileSync(rootCert) });
        const res = await candidate.request('/cpam/health', { bearer: false, timeout: 2000 });
        return res.status === 200 && res.json().status === 'ok' ? candidate : undefined;
      },
      { timeout: 30_000, interval: 200, what: `${ORIGIN}/cpam/health` },
    );
  } catch (e) {
    throw await fail(`the stack did not come up: ${e instanceof Error ? e.message : String(e)}`);
  }

  // Traffic must have reached the database (collector connected, events stored)
  // before the tests compare numbers; failures come with the failure ratio.
  const since = new Date(Date.now() - 3_600_000).toISOString();
  try {
    await until(
      async () => {
        const s = await api.summary({ from: since, tz: 'UTC' });
        return s.attempts >= 5 ? s : undefined;
      },
      { timeout: 30_000, interval: 500, what: 'the first stored usage events' },
    );
  } catch (e) {
    throw await fail(`no usage reached the database: ${e instanceof Error ? e.message : String(e)}`);
  }
  // The tests filter by and price mock-gpt: wait for its first event too.
  await until(
    async () => {
      const s = await api.summary({ from: since, tz: 'UTC' });
      const f = await api.ok('/cpam/api/v1/filters', { query: { from: since } });
      return s.failed >= 1 && f.models?.includes('mock-gpt') ? s : undefined;
    },
    { timeout: 20_000, interval: 500, what: 'a failed attempt and a mock-gpt attempt' },
  ).catch((e) => console.log(`note: ${e.message}; the traffic is random`));

  return { dir, adminKey, managementKey, api, priceServer, logs, stop };
}
