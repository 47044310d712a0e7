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
};

/** Attempts, backoff and retention, in one place. */
export function defaultJobOptions(sendAttempts: number): Record<keyof typeof QUEUES, DefaultJobOptions> {
  const retention = { removeOnComplete: { age: 7 * 24 * 3600, count: 100_000 }, removeOnFail: { age: 30 * 24 * 3600 } };
  return {
    matching: { attempts: 5, backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 }, ...retention },
    mailer: { attempts: sendAttempts, backoff: { type: 'exponential', delay: 5_000, jitter: 0.5 }, ...retention },
  };
}
