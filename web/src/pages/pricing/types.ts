// Types of the price routes under {apiBase}/v0/management/model-prices (see
// api/openapi.json: PricesDocument, PricesPut, SyncResult, RecomputeResult).

export interface PriceTier {
  aboveInputTokens: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/** USD per 1M tokens. A zero cacheRead/cacheWrite bills those tokens at the input price. */
export interface Price {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  tiers: PriceTier[];
}

export interface PriceEntry extends Price {
  /** default (built in), manual, models.dev, litellm or openrouter. */
  source: string;
  updatedAt: string | null;
}

export interface PricesDocument {
  prices: Record<string, PriceEntry>;
}

/** A price to store (PUT). */
export interface PriceInput {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  tiers?: PriceTier[];
}

export interface PricesPut {
  prices: Record<string, PriceInput>;
}

export interface SyncRequest {
  models?: string[];
}

export interface SyncSource {
  source: string;
  url: string;
  models: number;
  error?: string;
}

export interface SyncMatch {
  source: string;
  sourceModelId: string;
  price: Price;
}

export interface SyncCandidates {
  model: string;
  candidates: SyncMatch[];
}

export interface SyncResult {
  sources: SyncSource[];
  imported: number;
  matched: Record<string, SyncMatch>;
  candidates: SyncCandidates[];
  unmatched: string[];
  preserved: string[];
  kept: string[];
  prices: PricesDocument;
}

export interface RecomputeRequest {
  from: string;
  to: string;
}

export interface RecomputeResult {
  from: string;
  to: string;
  events: number;
  repriced: number;
  buckets: number;
  skippedBuckets: number;
}
