// Types of the answers the panel reads: caddy-cpam's usage API (see
// api/openapi.json in the repository) and CPA's management API (see the CPA
// protocol reference). Optional fields are the ones the server may omit.

/** Every error of the usage API: {"error": "<what to do>", "code": "<word>"}. */
export interface ApiErrorBody {
  error: string;
  code: string;
}

export interface SessionInfo {
  authenticated: boolean;
  /** session, admin-key or cpa-key. */
  via: string;
  expiresAt: string | null;
}

export interface ServiceInfo {
  service: string;
  mode: string;
  version: string;
  instanceId: string;
  startedAt: string;
  configGeneration: number;
  configured: boolean;
}

export interface Health {
  status: string;
  database: string;
}

export interface Tokens {
  uncached: number;
  cacheRead: number;
  cacheWrite: number;
  /** Output without reasoning. */
  output: number;
  reasoning: number;
  unclassified: number;
  /** uncached + cacheRead + cacheWrite. */
  input: number;
  /** output + reasoning. */
  outputTotal: number;
  total: number;
  quality?: string;
}

export interface Summary {
  attempts: number;
  failed: number;
  succeeded: number;
  failureRate: number;
  tokens: Tokens;
  costMicroUsd: number;
  costUsd: number;
  unpriced: number;
  latencyAvgMs: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  latencyP99Ms: number;
  ttftCount: number;
  ttftAvgMs: number;
  ttftP50Ms: number;
  ttftP95Ms: number;
  ttftP99Ms: number;
}

export interface Period {
  from: string;
  to: string;
  tz: string;
}

export interface SummaryResponse extends Period {
  current: Summary;
  previous: Summary & { from: string; to: string };
}

export type Bucket = '15m' | '30m' | '1h' | '6h' | '1d';

export interface TimeSeriesPoint extends Summary {
  start: string;
  end: string;
}

export interface TimeSeriesResponse extends Period {
  bucket: string;
  points: TimeSeriesPoint[];
}

export type BreakdownDimension = 'model' | 'alias' | 'provider' | 'account' | 'api_key' | 'endpoint' | 'upstream' | 'status';

export interface BreakdownRow extends Summary {
  key: string;
  label: string;
  hint?: string;
  other: boolean;
  /** by=model: the price-book name whose price applies, null for none; absent without a loaded book. */
  priced_as?: string | null;
}

export interface BreakdownResponse extends Period {
  by: string;
  sort: string;
  top: number;
  rows: BreakdownRow[];
}

export interface CollectorStatus {
  upstream: string;
  mode: string;
  /** subscribe, resp, http, or empty while disconnected. */
  transport: string;
  connected: boolean;
  supportRefresh: boolean;
  lastEventAt?: string;
  lagMs: number;
  eventsPerSecond1m: number;
  eventsPerSecond5m: number;
  received: number;
  stored: number;
  duplicates: number;
  deadLetters: number;
  lastError?: string;
  lastErrorStage?: string;
  lastErrorAt?: string;
  stopped: boolean;
  cpaVersion?: string;
  usageStatisticsEnabled: boolean | null;
  retentionSeconds?: number;
  warnings?: string[];
  lossWarning?: string;
  restartWarning?: string;
  spoolDepth: number;
  ingestError?: string;
}

export interface DatabaseStatus {
  path: string;
  sizeBytes: number;
  fileBytes: number;
  walBytes: number;
  schemaVersion: number;
  /**
   * How long raw events are kept, in seconds. Not answered by the server yet
   * (see the panel README); shown when present.
   */
  retentionSeconds?: number;
}

export interface StatusWarning {
  upstream: string;
  message: string;
}

/** caddy-cpam's effective configuration as /status reports it (no keys). */
export interface ServiceSettings {
  upstreams: {
    name: string;
    url: string;
    collector: string;
    pollIntervalSeconds: number;
    tlsInsecureSkipVerify: boolean;
    managementKeySet: boolean;
  }[];
  adminKey: 'configured' | 'generated';
  retentionSeconds: number;
  sessionTtlSeconds: number;
  queryLimit: number;
  maxImportSize: number;
  corsOrigins: string[];
  priceSources: { name: string; url: string }[];
}

export interface Status {
  service: string;
  version: string;
  time: string;
  database: DatabaseStatus | null;
  collectors: CollectorStatus[];
  warnings: StatusWarning[];
  /** Absent on older caddy-cpam versions. */
  settings?: ServiceSettings;
}

// ---- CPA management API ----

export interface CpaApiKeys {
  'api-keys': string[];
}

export interface CpaAuthFile {
  id?: string;
  name: string;
  auth_index?: string;
  type?: string;
  provider?: string;
  label?: string;
  status?: string;
  disabled?: boolean;
  unavailable?: boolean;
  email?: string;
}

export interface CpaAuthFiles {
  files: CpaAuthFile[];
}

export interface CpaLatestVersion {
  'latest-version': string;
}

export interface CpaUsageStatisticsEnabled {
  'usage-statistics-enabled': boolean;
}

/** An entry of a provider key list (gemini-api-key, claude-api-key, …). */
export interface CpaProviderKey {
  'api-key'?: string;
  'base-url'?: string;
  'auth-index'?: string;
  prefix?: string;
}

/** An entry of openai-compatibility. */
export interface CpaCompatProvider {
  name: string;
  'base-url'?: string;
  disabled?: boolean;
  'api-key-entries'?: { 'api-key'?: string; 'auth-index'?: string }[];
}
