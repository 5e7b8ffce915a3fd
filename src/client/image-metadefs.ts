import type { namespaceView } from '../image/metadefs/views.ts';
import { ImageClient } from './image.ts';
import type { Session } from './session.ts';

export type MetadefNamespace = ReturnType<typeof namespaceView>;

/** What a namespace is created or changed with. */
export interface NamespaceFields {
  namespace?: string;
  display_name?: string;
  description?: string;
  visibility?: 'public' | 'private';
  protected?: boolean;
}

/** Glance's metadata definitions: namespaces. */
export class MetadefClient {
  private readonly url: string;
  constructor(private readonly session: Session) {
    this.url = `${new ImageClient(session).url}/metadefs/namespaces`;
  }

  private one(name: string): string {
    return `${this.url}/${encodeURIComponent(name)}`;
  }

  /** Every namespace the filters select, following `next` to the last page. */
  async list(filters: { resource_types?: string; visibility?: string } = {}): Promise<MetadefNamespace[]> {
    const params = new URLSearchParams(Object.entries(filters).filter(([, v]) => v !== undefined) as [string, string][]);
    const root = this.url.replace(/\/v2\/metadefs\/namespaces$/, '');
    let url: string | undefined = `${this.url}${params.size ? `?${params}` : ''}`;
    const found: MetadefNamespace[] = [];
    while (url) {
      const page: { namespaces: MetadefNamespace[]; next?: string } = await this.session.request('GET', url);
      found.push(...page.namespaces);
      url = page.next && page.namespaces.length ? `${root}${page.next}` : undefined;
    }
    return found;
  }

  get(name: string): Promise<MetadefNamespace> {
    return this.session.request<MetadefNamespace>('GET', this.one(name));
  }

  create(fields: NamespaceFields): Promise<MetadefNamespace> {
    return this.session.request<MetadefNamespace>('POST', this.url, { body: fields });
  }

  /** PUT replaces the namespace's own fields: the current ones are sent with the changes. */
  async update(name: string, changes: NamespaceFields): Promise<MetadefNamespace> {
    const { namespace, display_name, description, visibility, protected: prot, owner } = await this.get(name);
    const body = { namespace, display_name, description, visibility, protected: prot, owner, ...changes };
    return this.session.request<MetadefNamespace>('PUT', this.one(name), { body });
  }

  async delete(name: string): Promise<void> {
    await this.session.request('DELETE', this.one(name));
  }
}
