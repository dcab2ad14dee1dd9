// Answers of the usage API that only this page reads (see api/openapi.json):
// events, failures, filter values and the frames of the live feed. The
// shared analytics types (Summary, TimeSeriesResponse, BreakdownResponse)
// come from src/api/types.ts.
import type { Period, Tokens } from '../../api/types';

/** A client or provider key: never the key itself. */
export interface Secret {
  /** Keyed hash identifying the key (the api_key filter value). */
  hash: string;
  /** Short masked form, e.g. "sk-c…st-1". */
  mask: string;
}

export interface EventSourceInfo {
  /** apikey, email, project, other. */
  kind: string;
  key?: Secret | null;
  value?: string;
}

export interface EventAccount {
  label?: string;
  email?: string;
  provider?: string;
  projectId?: string;
  fileName?: string;
}

/** One stored upstream attempt (/api/v1/events, /api/v1/failures, /api/v1/live). */
export interface UsageEvent {
  /** Row id, increasing in insertion order. */
  id: number;
  hash: string;
  /** Attempt start, RFC 3339 in the requested zone. */
  time: string;
  upstream: string;
  /** CPA request id, shared by the failover attempts of one request. */
  requestId: string;
  /** The credential's auth_index (the account filter). */
  authIndex: string;
  authType: string;
  provider: string;
  executorType: string;
  /** Upstream model called. */
  model: string;
  /** Model name the client asked for. */
  alias: string;
  endpoint: string;
  apiKey: Secret | null;
  source: EventSourceInfo | null;
  account: EventAccount | null;
  clientIp: string;
  xForwardedFor?: string;
  userAgent: string;
  failed: boolean;
  statusCode: number;
  failBody?: string;
  latencyMs: number;
  /** 0 when not measured. */
  ttftMs: number;
  generate: boolean;
  reasoningEffort?: string;
  serviceTier?: string;
  responseServiceTier?: string;
  accessTokenSha256?: string;
  tokens: Tokens;
  headers?: Record<string, string>;
  costMicroUsd: number;
  costUsd: number;
  priced: boolean;
}

export interface EventsResponse extends Period {
  limit: number;
  events: UsageEvent[];
  nextCursor: string | null;
}

export interface FailuresResponse extends Period {
  limit: number;
  failures: UsageEvent[];
}

export interface FiltersResponse extends Period {
  upstreams: string[];
  models: string[];
  aliases: string[];
  providers: string[];
  /** auth_index values. */
  accounts: string[];
  apiKeys: Secret[];
  endpoints: string[];
  statuses: ('failed' | 'ok')[];
}

/** data of an "event: gap" frame of the live feed. */
export interface LiveGap {
  /** The id the client resumed after. */
  skippedAfter: number;
  /** The last skipped id; the stream continues after it. */
  skippedTo: number;
  reason: string;
}

/** data of an "event: close" frame of the live feed. */
export interface LiveClose {
  reason: string;
}
