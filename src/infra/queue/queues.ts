import type { DefaultJobOptions } from 'bullmq';

/**
 * Every queue and job name, with typed payloads. Jobs carry ids only (Redis keeps job data in
 * clear text): never an address or a token.
 */
export const QUEUES = {
  matching: 'matching',
  /** Composing deliveries, the cadence tick and the reconciler. */
  mailer: 'mailer',
  /**
   * Sending: `send-batch` jobs (SEND_BATCH_SIZE delivery ids each) from composing, and single
   * `send` jobs for retries, the reconciler and admin re-sends. Rate limited per email, globally
   * (across every worker process), by SendRateLimiter.
   */
  send: 'send',
  /** Pulls from feed sources (Hugging Face daily papers, arXiv); one at a time across all workers. */
  sources: 'sources',
  /** Transactional email (subscription confirmations); decided and sent by the subscribers module. */
  transactional: 'transactional',
} as const;

export const JOBS = {
  matchDigest: 'match-digest',
  composeDigest: 'compose-digest',
  send: 'send',
  sendBatch: 'send-batch',
  cadenceTick: 'cadence-tick',
  reconcile: 'reconcile',
  pullSource: 'pull-source',
  subscriptionRequest: 'subscription-request',
} as const;

/** Job schedulers (BullMQ keeps one per id, however many processes upsert it). */
export const SCHEDULES = {
  cadenceTick: { id: 'cadence-tick', everyMs: 60_000 },
  reconcile: { id: 'reconcile', everyMs: 5 * 60_000 },
} as const;

export interface MatchDigestJob {
  digestId: number;
}
export interface ComposeDigestJob {
  digestId: number;
}
export interface SendJob {
  deliveryId: number;
}
/** Delivery ids only (ascending), at most SEND_BATCH_SIZE. */
export interface SendBatchJob {
  deliveryIds: number[];
}
/** `source` is a configured source name such as "hf-daily" or "arxiv-rss:cs.lg" (no secrets). */
export interface PullSourceJob {
  source: string;
  trigger: 'schedule';
}

/** One job scheduler per source: upserting it from every process keeps exactly one. */
export const sourceSchedulerId = (source: string) => `pull-source:${source}`;

/** A failing source is retried SOURCE_RETRY_DELAY_MS × 1, 2, 4 later, then reported as failed. */
export function sourcePullJobOptions(retryDelayMs: number): Pick<DefaultJobOptions, 'attempts' | 'backoff'> {
  return { attempts: 4, backoff: { type: 'exponential', delay: retryDelayMs, jitter: 0.2 } };
}

/** A subscribe request row (uuid); the worker decides whether and what to send. */
export interface SubscriptionRequestJob {
  requestId: string;
}

/** A row the job is about: its id, and when it was created. */
export interface RowRef {
  id: number;
  createdAt: Date;
}

/**
 * Deterministic job ids: adding the same work twice is a no-op while the job is retained. The
 * row's creation time is part of the id, so a database restored or recreated under the same
 * Redis never collides with jobs retained from the old rows.
 */
export const jobIds = {
  matchDigest: (d: RowRef) => `match-digest-${d.id}-${d.createdAt.getTime()}`,
  composeDigest: (d: RowRef) => `compose-digest-${d.id}-${d.createdAt.getTime()}`,
  send: (d: RowRef) => `send-${d.id}-${d.createdAt.getTime()}`,
  /** A batch is named by its first and last rows (ids ascending, so batches of one compose never overlap). */
  sendBatch: (first: RowRef, last: RowRef) => `send-batch-${first.id}-${first.createdAt.getTime()}-${last.id}-${last.createdAt.getTime()}`,
  /** Request ids are random uuids: unique without a timestamp. */
  subscriptionRequest: (requestId: string) => `subscription-request-${requestId}`,
};

/** Attempts, backoff and retention, in one place. */
export function defaultJobOptions(sendAttempts: number, sendBackoffMs: number): Record<keyof typeof QUEUES, DefaultJobOptions> {
  const retention = { removeOnComplete: { age: 7 * 24 * 3600, count: 100_000 }, removeOnFail: { age: 30 * 24 * 3600 } };
  return {
    matching: { attempts: 5, backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 }, ...retention },
    mailer: { attempts: 5, backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 }, ...retention },
    // SEND_BACKOFF_MS × 1, 2, 4, … with ±50% jitter so retries after an SMTP outage do not arrive in lockstep.
    send: { attempts: sendAttempts, backoff: { type: 'exponential', delay: sendBackoffMs, jitter: 0.5 }, ...retention },
    // A confirmation is wanted within minutes: a few quick retries, then the reader simply asks again.
    transactional: { attempts: 5, backoff: { type: 'exponential', delay: Math.min(sendBackoffMs, 5_000), jitter: 0.5 }, ...retention },
    // Scheduled pulls carry sourcePullJobOptions(SOURCE_RETRY_DELAY_MS) in their template; this is the fallback.
    sources: { ...sourcePullJobOptions(60_000), removeOnComplete: { age: 7 * 24 * 3600, count: 1000 }, removeOnFail: { age: 30 * 24 * 3600, count: 1000 } },
  };
}
