// Metrics and readiness: stages report through events.ts (diagnostics_channel); this module turns the
// reports into Prometheus metrics and serves /metrics and /readyz on the admin port.
export { report, secondsSince, CHANNELS, type ExchangeEvent } from './events.js';
export { createMetrics, MAX_LABEL_VALUES, LATENCY_BUCKETS, BATCH_BUCKETS, type Metrics, type MetricSources } from './registry.js';
export { readiness, type ReadinessCheck, type ReadinessReport } from './readiness.js';
export { opsAdminRoutes } from './routes.js';
export { timedRecorder } from './recorder.js';
export { LocalCounter, LocalGauge, LocalHistogram } from './local.js';
