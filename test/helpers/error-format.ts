/** The message of an error body in the style of the service under that URL prefix (identity,
 * image, compute, networking, volume, orchestration, load-balancer, metric, alarming), or undefined if the
 * body is not in that style. Glance's is its JSON form to clients that prefer JSON, or its HTML
 * page. */
export function openstackMessage(prefix: string, body: any): string | undefined {
  switch (prefix) {
    case 'image':
      // The page it answers otherwise, and when the request's Accept could not be read.
      if (typeof body === 'string') return /<h1>\d{3} [^<]*<\/h1>\s*([^<]+)</.exec(body)?.[1];
      return typeof body?.code === 'string' && typeof body?.title === 'string' ? body.message : undefined;
    case 'networking':
      return body?.NeutronError?.message;
    // wsme's fault body, which octaviaclient prints.
    case 'load-balancer':
      return typeof body?.faultcode === 'string' ? body.faultstring : undefined;
    case 'alarming':
      return typeof body?.error_message?.faultcode === 'string' ? body.error_message.faultstring : undefined;
    case 'metric':
      return typeof body?.code === 'number' && typeof body?.title === 'string' ? body.description : undefined;
    case 'compute':
    case 'volume': {
      const [only] = Object.values(body ?? {}) as any[];
      return body && Object.keys(body).length === 1 && typeof only?.code === 'number' ? only.message : undefined;
    }
    default:
      return body?.error?.message;
  }
}
