import type { FastifyInstance } from 'fastify';
import { family, labelValue } from '../prometheus.ts';

declare module 'fastify' {
  interface FastifyInstance {
    latency: RouteLatency;
  }
}

// How long the API takes to answer, per route and method, as Prometheus histograms: counted in
// memory at each response (a few additions), rendered only when scraped.

/** Upper bounds of the buckets, in seconds: Prometheus' default ones. */
const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const FAMILY = 'nubo_http_request_duration_seconds';

interface Histogram {
  method: string;
  route: string;
  buckets: number[];
  sum: number;
  count: number;
}

export class RouteLatency {
  // Keyed by method and route pattern, never by the path asked for: their number is bounded by
  // the routes the API declares.
  private readonly histograms = new Map<string, Histogram>();

  observe(method: string, route: string, seconds: number): void {
    const key = `${method} ${route}`;
    let h = this.histograms.get(key);
    if (!h) this.histograms.set(key, (h = { method, route, buckets: BOUNDS.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < BOUNDS.length; i++) if (seconds <= BOUNDS[i]!) h.buckets[i]!++;
    h.sum += seconds;
    h.count++;
  }

  /** The histograms in Prometheus' text exposition format. */
  exposition(): string {
    const lines: string[] = [];
    for (const h of [...this.histograms.values()].sort((a, b) => a.route.localeCompare(b.route) || a.method.localeCompare(b.method))) {
      const labels = `method="${h.method}",route="${labelValue(h.route)}"`;
      BOUNDS.forEach((le, i) => lines.push(`${FAMILY}_bucket{${labels},le="${le}"} ${h.buckets[i]}`));
      lines.push(`${FAMILY}_bucket{${labels},le="+Inf"} ${h.count}`, `${FAMILY}_sum{${labels}} ${h.sum}`, `${FAMILY}_count{${labels}} ${h.count}`);
    }
    return family(FAMILY, 'Time the API took to answer, per route.', 'histogram', lines);
  }
}

/** Counts every response of the app by the route that answered it (requests no route matched
 * count under route "unmatched"). */
export function measureLatency(app: FastifyInstance): void {
  app.decorate('latency', new RouteLatency());
  // A callback hook, not an async one: no promise per response.
  app.addHook('onResponse', (request, reply, done) => {
    app.latency.observe(request.method, request.routeOptions.url ?? 'unmatched', reply.elapsedTime / 1000);
    done();
  });
}
