import type { DefaultJobOptions } from 'bullmq';

/**
 * Every queue and job name, with typed payloads. Jobs carry ids only (Redis keeps job data in
 * clear text): never an address or a token.
 */
export const QUEUES = {
  matching: 'matching',
  mailer: 'mailer',
} as const;

export const JOBS = {
  matchDigest: 'match-digest',
  composeDigest: 'compose-digest',
  send: 'send',
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

/** Deterministic job ids: adding the same work twice is a no-op while the job is retained. */
export const jobIds = {
  matchDigest: (digestId: number) => `match-digest-${digestId}`,
  composeDigest: (digestId: number) => `compose-digest-${digestId}`,
  send: (deliveryId: number) => `send-${deliveryId}`,
};

/** Attempts, backoff and retention, in one place. */
export function defaultJobOptions(sendAttempts: number): Record<keyof typeof QUEUES, DefaultJobOptions> {
  const retention = { removeOnComplete: { age: 7 * 24 * 3600, count: 100_000 }, removeOnFail: { age: 30 * 24 * 3600 } };
  return {
    matching: { attempts: 5, backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 }, ...retention },
    mailer: { attempts: sendAttempts, backoff: { type: 'exponential', delay: 5_000, jitter: 0.5 }, ...retention },
  };
}
