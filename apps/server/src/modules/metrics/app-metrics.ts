import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { LifecycleObserver, LifecycleResult } from '../../jobs/lifecycle.js';

/** Label for requests no route matched, so random URLs cannot blow up the label set. */
export const UNMATCHED_ROUTE = 'unmatched';

const PURGED_KINDS = [
  'expired_rooms',
  'released_reservations',
  'expired_sessions',
  'expired_refresh_tokens',
  'expired_blacklist',
  'released_names',
  'released_download_leases',
  'blobs_deleted',
  'orphans_deleted',
] as const satisfies ReadonlyArray<keyof LifecycleResult>;

/**
 * The Prometheus metrics of one app instance, in a registry of its own (tests build many apps
 * in one process; the global registry would mix them and reject duplicate names).
 */
export class AppMetrics implements LifecycleObserver {
  readonly registry = new Registry();
  private readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly gcRuns: Counter<'result'>;
  private readonly gcPurged: Counter<'kind'>;
  readonly sockets: Gauge;
  readonly rooms: Gauge;
  readonly storedBytes: Gauge;
  readonly uploadsInProgress: Gauge;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'elizabeth_' });
    this.httpRequests = new Counter({
      name: 'elizabeth_http_requests_total',
      help: 'HTTP requests by route pattern, method and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'elizabeth_http_request_duration_seconds',
      help: 'HTTP request latency by route pattern, method and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.gcRuns = new Counter({
      name: 'elizabeth_gc_runs_total',
      help: 'Lifecycle passes: completed, skipped (another instance held the lock) or failed',
      labelNames: ['result'],
      registers,
    });
    this.gcPurged = new Counter({
      name: 'elizabeth_gc_purged_items_total',
      help: 'What lifecycle passes removed or released, by kind',
      labelNames: ['kind'],
      registers,
    });
    this.sockets = new Gauge({
      name: 'elizabeth_websocket_connections',
      help: 'Open WebSockets on this instance',
      registers,
    });
    this.rooms = new Gauge({ name: 'elizabeth_rooms', help: 'Rooms in the database', registers });
    this.storedBytes = new Gauge({
      name: 'elizabeth_stored_bytes',
      help: 'Sum of the rooms current_size (contents plus live upload reservations)',
      registers,
    });
    // Every label value from the first scrape on, so rate() and alerts see the series start at 0.
    for (const result of ['completed', 'skipped', 'failed']) this.gcRuns.inc({ result }, 0);
    for (const kind of PURGED_KINDS) this.gcPurged.inc({ kind }, 0);
    this.uploadsInProgress = new Gauge({
      name: 'elizabeth_uploads_in_progress',
      help: 'Upload reservations neither consumed nor expired',
      registers,
    });
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  passFinished(result: LifecycleResult): void {
    this.gcRuns.inc({ result: result.skipped ? 'skipped' : 'completed' });
    for (const kind of PURGED_KINDS) {
      if (result[kind] > 0) this.gcPurged.inc({ kind }, result[kind]);
    }
  }

  passFailed(): void {
    this.gcRuns.inc({ result: 'failed' });
  }
}
