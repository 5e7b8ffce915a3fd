import type { Association, MetadefObject, Property, Tag } from './definitions.ts';
import type { Namespace } from './namespaces.ts';

/** Glance writes times to the second, in UTC. */
const time = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Glance leaves unset fields out rather than writing null; its clients' schemas expect that. */
const present = <T extends Record<string, unknown>>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as Partial<T>;

const base = (ns: string) => `/v2/metadefs/namespaces/${encodeURIComponent(ns)}`;

export const associationView = (a: Association) =>
  present({ name: a.resourceType, prefix: a.prefix, properties_target: a.propertiesTarget, created_at: time(a.createdAt), updated_at: time(a.updatedAt) });

/** A property's schema with its name, `prefix` put before it (a resource type's view). */
export const propertyView = (p: Property, prefix = '') => ({ name: `${prefix}${p.name}`, ...p.schema });

export const propertiesView = (ps: Property[], prefix = '') => Object.fromEntries(ps.map((p) => [`${prefix}${p.name}`, p.schema]));

export const objectView = (o: MetadefObject, links = true) => ({
  ...present({ name: o.name, description: o.description }),
  required: o.required,
  properties: o.properties,
  created_at: time(o.createdAt),
  updated_at: time(o.updatedAt),
  ...(links ? { self: `${base(o.namespace)}/objects/${encodeURIComponent(o.name)}`, schema: '/v2/schemas/metadefs/object' } : {}),
});

export const tagView = (t: Tag) => ({ name: t.name, created_at: time(t.createdAt), updated_at: time(t.updatedAt) });

export interface NamespaceParts {
  associations: Association[];
  properties?: Property[];
  objects?: MetadefObject[];
  tags?: Tag[];
  /** The prefix of the resource type the caller asked the namespace for. */
  prefix?: string;
}

/** A namespace; what it holds is shown when there is some, as Glance shows it. */
export function namespaceView(n: Namespace, parts: NamespaceParts) {
  return {
    ...present({ namespace: n.namespace, display_name: n.displayName, description: n.description }),
    visibility: n.visibility,
    protected: n.protected,
    owner: n.owner,
    created_at: time(n.createdAt),
    updated_at: time(n.updatedAt),
    ...(parts.associations.length ? { resource_type_associations: parts.associations.map(associationView) } : {}),
    ...(parts.properties?.length ? { properties: propertiesView(parts.properties, parts.prefix) } : {}),
    ...(parts.objects?.length ? { objects: parts.objects.map((o) => objectView(o, false)) } : {}),
    ...(parts.tags?.length ? { tags: parts.tags.map((t) => ({ name: t.name })) } : {}),
    self: base(n.namespace),
    schema: '/v2/schemas/metadefs/namespace',
  };
}
