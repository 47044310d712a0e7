import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of this process (each API or worker process is scraped on its own). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly sends = new Counter({
    name: 'paperboy_emails_total',
    help: 'Digest deliveries finished, by outcome (sent, skipped, failed, unknown)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly sendFailures = new Counter({
    name: 'paperboy_send_failures_total',
    help: 'Failed SMTP attempts, by class (network, transient, permanent, rate_limited)',
    labelNames: ['class'] as const,
    registers: [this.registry],
  });

  readonly sendDuration = new Histogram({
    name: 'paperboy_send_duration_seconds',
    help: 'Time to claim, render and hand one email to SMTP',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly matchDuration = new Histogram({
    name: 'paperboy_match_duration_seconds',
    help: 'Time to match one digest against every distinct topic and fan out',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: 'paperboy_queue_jobs',
    help: 'Jobs waiting, active or delayed, per queue (read at scrape time)',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });

  readonly reconciled = new Counter({
    name: 'paperboy_reconciled_total',
    help: 'Work the reconciler repaired, by kind (requeued_send, marked_unknown, requeued_match, requeued_compose)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'paperboy_' });
  }
}
