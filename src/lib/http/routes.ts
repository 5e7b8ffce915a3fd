declare module 'fastify' {
  interface FastifyInstance {
    routeIndex: RouteIndex;
  }
}

/** A route as registered: its method, its URL pattern with the service's prefix, its schemas. */
export interface RouteEntry {
  method: string;
  url: string;
  schema?: { body?: unknown; querystring?: unknown; params?: unknown };
}

const trim = (path: string) => (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path);

/** Every route of the app, so that a path served for other methods gets a 405 with the methods
 * it allows (as every OpenStack service answers), not a 404. */
export class RouteIndex {
  readonly routes: RouteEntry[] = [];
  private readonly patterns: { method: string; re: RegExp }[] = [];

  add(method: string, url: string, schema?: RouteEntry['schema']): void {
    this.routes.push({ method, url, schema });
    const source = trim(url)
      .split('/')
      .map((part) => (part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    this.patterns.push({ method, re: new RegExp(`^${source}$`) });
  }

  /** The methods that some route serves at this (decoded) path. */
  allowed(path: string): string[] {
    const p = trim(path);
    return [...new Set(this.patterns.filter(({ re }) => re.test(p)).map(({ method }) => method))];
  }
}
