import { ClientError, HttpError } from './errors.ts';
import type { Query } from './http.ts';
import type { Session } from './session.ts';

/** A Gnocchi body as the API writes it: the commands show whatever it holds. */
export type MetricBody = Record<string, unknown>;

/** One measure as Gnocchi lists it: timestamp, granularity in seconds, value. */
export type Measure = [string, number, number];

export interface MeasureQuery {
  aggregation?: string;
  granularity?: string;
  start?: string;
  stop?: string;
  refresh?: boolean;
  resample?: string;
}

/** An error as gnocchiclient words it: Gnocchi's description, the status and the request's ID. */
export class GnocchiError extends ClientError {
  override name = 'GnocchiError';
  constructor(
    readonly status: number,
    description: string,
    requestId?: string,
  ) {
    super(`${description} (HTTP ${status})${requestId ? ` (Request-ID: ${requestId})` : ''}`);
  }
}

function gnocchiError(err: HttpError): GnocchiError {
  let description = err.detail;
  try {
    const body = JSON.parse(err.detail) as { description?: unknown };
    if (typeof body.description === 'string') description = body.description;
    // A description that is an object (a schema error's) is printed as Python prints a dict by
    // gnocchiclient; its JSON text is the nearest we give.
    else if (body.description !== undefined) description = JSON.stringify(body.description);
  } catch {
    // Not Gnocchi's JSON body: the text as errorDetail made it.
  }
  return new GnocchiError(err.status, description, err.requestId);
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Gnocchi's API v1, reached through the catalog's metric endpoint. */
export class MetricClient {
  constructor(private readonly session: Session) {}

  private get base(): string {
    return `${this.session.endpoint('metric').replace(/\/v1$/, '')}/v1`;
  }

  /** A request whose failure reads as gnocchiclient's. */
  async request<T>(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<T> {
    try {
      return await this.session.request<T>(method, `${this.base}${path}`, opts);
    } catch (err) {
      throw err instanceof HttpError ? gnocchiError(err) : err;
    }
  }

  /** `more` is query text whose parameters repeat (sort=a&sort=b), which Query cannot hold. */
  resources = (type = 'generic', query: Query = {}, more = '') =>
    this.request<MetricBody[]>('GET', `/resource/${encodeURIComponent(type)}${more ? `?${more}` : ''}`, { query });
  resource = (id: string, type = 'generic') => this.request<MetricBody>('GET', `/resource/${encodeURIComponent(type)}/${encodeURIComponent(id)}`);
  /** Resources that match a filter in Gnocchi's text form (`host=h1 and not ended_at!=null`),
   * sent as its `filter` query parameter. */
  search = (type: string, filter: string | undefined, query: Query = {}, more = '') =>
    this.request<MetricBody[]>('POST', `/search/resource/${encodeURIComponent(type)}${more ? `?${more}` : ''}`, { query: { ...query, filter }, body: {} });

  metrics = (query: Query = {}) => this.request<MetricBody[]>('GET', '/metric', { query });
  /** A metric by ID, or by name on a resource. */
  metric = (ref: string, resourceId?: string) =>
    this.request<MetricBody>(
      'GET',
      resourceId ? `/resource/generic/${encodeURIComponent(resourceId)}/metric/${encodeURIComponent(ref)}` : `/metric/${encodeURIComponent(ref)}`,
    );

  /** Measures of a metric by ID, or by name on a resource; a name without a resource is refused
   * before asking, as gnocchiclient refuses it. */
  measures(ref: string, resourceId: string | undefined, q: MeasureQuery = {}): Promise<Measure[]> {
    if (!resourceId && !UUID.test(ref)) throw new ClientError('resource_id is required to get a metric by name');
    const path = resourceId
      ? `/resource/generic/${encodeURIComponent(resourceId)}/metric/${encodeURIComponent(ref)}/measures`
      : `/metric/${encodeURIComponent(ref)}/measures`;
    const query: Query = {
      start: q.start,
      stop: q.stop,
      aggregation: q.aggregation,
      granularity: q.granularity,
      resample: q.resample,
      refresh: q.refresh ? 'true' : undefined,
    };
    return this.request<Measure[]>('GET', path, { query });
  }

  addMeasures = (metricId: string, measures: { timestamp: string; value: number }[]) =>
    this.request<void>('POST', `/metric/${encodeURIComponent(metricId)}/measures`, { body: measures });

  /** POST /v1/aggregates: an operation over metrics, or over resources' metrics with `search`. */
  aggregates = (body: { operations: string; search?: string; resource_type?: string }, query: Query = {}, more = '') =>
    this.request<MetricBody>('POST', `/aggregates${more ? `?${more}` : ''}`, { query, body });

  archivePolicies = () => this.request<MetricBody[]>('GET', '/archive_policy');
  archivePolicy = (name: string) => this.request<MetricBody>('GET', `/archive_policy/${encodeURIComponent(name)}`);
}
