// The operations endpoints on the admin port: GET /metrics (Prometheus text) and GET /readyz. Neither needs
// the admin token (scrapers and probes have none); both pass through the admin server's own checks.
import type { AdminRoute } from '../admin/types.js';
import { sendJson } from '../admin/types.js';
import type { Metrics } from './registry.js';
import { readiness, type ReadinessCheck } from './readiness.js';

export function opsAdminRoutes(metrics: Metrics, checks: readonly ReadinessCheck[]): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/metrics',
      adminOnly: false,
      async handler(_req, res) {
        const { body, contentType } = await metrics.scrape();
        res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      },
    },
    {
      method: 'GET',
      path: '/readyz',
      adminOnly: false,
      async handler(_req, res) {
        const r = readiness(checks);
        sendJson(res, r.ready ? 200 : 503, r);
      },
    },
  ];
}
