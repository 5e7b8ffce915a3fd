import { and, eq, inArray, or, type SQL } from 'drizzle-orm';
import { badRequest, conflict, forbidden, notFound } from '../../lib/errors.ts';
import type { Db } from '../../lib/store/db.ts';
import type { Caller } from '../access.ts';
import { METADEF_VISIBILITIES, metadefAssociations, metadefNamespaces, metadefObjects, metadefProperties, metadefTags } from '../tables.ts';
import { addAssociation, checkName, checkProperty, putObject, type ObjectBody, type AssociationBody } from './definitions.ts';

export type Namespace = typeof metadefNamespaces.$inferSelect;

/** Namespaces the caller may read: public ones, its project's, every one for the admin. */
export const readable = (c: Caller): SQL | undefined =>
  c.admin ? undefined : or(eq(metadefNamespaces.visibility, 'public'), eq(metadefNamespaces.owner, c.projectId));

export async function getNamespace(db: Db, c: Caller, name: string): Promise<Namespace> {
  const [row] = await db
    .select()
    .from(metadefNamespaces)
    .where(and(eq(metadefNamespaces.namespace, name), readable(c)));
  if (!row) throw notFound(`Metadata definition namespace=${name} was not found.`);
  return row;
}

export interface NamespaceBody {
  namespace?: unknown;
  display_name?: unknown;
  description?: unknown;
  visibility?: unknown;
  protected?: unknown;
  owner?: unknown;
  resource_type_associations?: AssociationBody[];
  properties?: Record<string, Record<string, unknown>>;
  objects?: ObjectBody[];
  tags?: { name: string }[];
}

const optionalText = (field: string, value: unknown, max: number) => {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > max) throw badRequest(`${field} must be a string of at most ${max} characters.`);
  return value;
};

/** The namespace's own fields from a create or update body, checked. */
function fields(c: Caller, body: NamespaceBody) {
  const name = checkName('namespace', body.namespace, 80);
  const visibility = body.visibility ?? 'private';
  if (!(METADEF_VISIBILITIES as readonly unknown[]).includes(visibility)) throw badRequest(`Invalid visibility value: ${String(visibility)}`);
  if (body.protected !== undefined && typeof body.protected !== 'boolean') throw badRequest('protected must be true or false.');
  const owner = body.owner === undefined ? c.projectId : checkName('owner', body.owner, 255);
  return {
    namespace: name,
    displayName: optionalText('display_name', body.display_name, 80),
    description: optionalText('description', body.description, 500),
    visibility: visibility as Namespace['visibility'],
    protected: (body.protected as boolean | undefined) ?? false,
    owner,
  };
}

/** POST /v2/metadefs/namespaces: the namespace with whatever definitions the body carries. */
export async function createNamespace(tx: Db, c: Caller, body: NamespaceBody): Promise<Namespace> {
  const values = fields(c, body);
  const [existing] = await tx.select({ n: metadefNamespaces.namespace }).from(metadefNamespaces).where(eq(metadefNamespaces.namespace, values.namespace));
  if (existing) throw conflict(`A metadata definition namespace with name=${values.namespace} already exists.`);
  const [row] = await tx.insert(metadefNamespaces).values(values).returning();
  for (const a of body.resource_type_associations ?? []) await addAssociation(tx, values.namespace, a);
  for (const [name, schema] of Object.entries(body.properties ?? {})) {
    await tx.insert(metadefProperties).values({ namespace: values.namespace, name: checkName('property name', name, 255), schema: checkProperty(schema) });
  }
  for (const o of body.objects ?? []) await putObject(tx, values.namespace, o, false);
  for (const t of dedupeTags(body.tags ?? [])) await tx.insert(metadefTags).values({ namespace: values.namespace, name: t });
  return row!;
}

export const dedupeTags = (tags: { name?: unknown }[]) => {
  if (!Array.isArray(tags)) throw badRequest('tags must be a list of {"name": …}.');
  return [...new Set(tags.map((t) => checkName('tag name', t?.name, 255)))];
};

/** PUT /v2/metadefs/namespaces/{ns}: replaces the namespace's own fields; a new name renames it
 * with its definitions. */
export async function updateNamespace(tx: Db, c: Caller, name: string, body: NamespaceBody): Promise<Namespace> {
  const before = await getNamespace(tx, c, name);
  const values = fields(c, { owner: before.owner, ...body });
  if (values.namespace !== name) {
    const [taken] = await tx.select({ n: metadefNamespaces.namespace }).from(metadefNamespaces).where(eq(metadefNamespaces.namespace, values.namespace));
    if (taken) throw conflict(`A metadata definition namespace with name=${values.namespace} already exists.`);
  }
  const [row] = await tx
    .update(metadefNamespaces)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(metadefNamespaces.namespace, name))
    .returning();
  return row!;
}

/** DELETE of a namespace, or of all its properties, objects or tags: refused while protected. */
export async function deleteNamespace(tx: Db, c: Caller, name: string, part?: 'properties' | 'objects' | 'tags'): Promise<void> {
  const ns = await getNamespace(tx, c, name);
  if (ns.protected) throw forbidden(`Metadata definition namespace ${name} is protected and cannot be deleted.`);
  const table = { properties: metadefProperties, objects: metadefObjects, tags: metadefTags }[part ?? 'properties'];
  if (part) await tx.delete(table).where(eq(table.namespace, name));
  else await tx.delete(metadefNamespaces).where(eq(metadefNamespaces.namespace, name));
}

export interface NamespaceQuery {
  limit?: string;
  marker?: string;
  visibility?: string;
  resource_types?: string;
  sort_key?: string;
  sort_dir?: string;
}

const SORT_KEYS = ['created_at', 'updated_at', 'namespace'] as const;

/** GET /v2/metadefs/namespaces: by visibility and resource types (any of them), sorted, paged by
 * the last namespace's name. */
export async function listNamespaces(db: Db, c: Caller, q: NamespaceQuery): Promise<{ namespaces: Namespace[]; more: boolean }> {
  const limit = q.limit === undefined ? 25 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1) throw badRequest('limit param must be a positive integer');
  const key = q.sort_key ?? 'created_at';
  if (!(SORT_KEYS as readonly string[]).includes(key)) throw badRequest(`Invalid sort key: ${key}. It must be one of the following: ${SORT_KEYS.join(', ')}.`);
  const dir = q.sort_dir ?? 'desc';
  if (dir !== 'asc' && dir !== 'desc') throw badRequest(`Invalid sort direction: ${dir}. It must be one of the following: asc, desc.`);
  const conds: (SQL | undefined)[] = [readable(c)];
  if (q.visibility) conds.push(eq(metadefNamespaces.visibility, q.visibility as Namespace['visibility']));
  if (q.resource_types) {
    const types = q.resource_types.split(',').map((t) => t.trim());
    const rows = await db
      .selectDistinct({ n: metadefAssociations.namespace })
      .from(metadefAssociations)
      .where(inArray(metadefAssociations.resourceType, types));
    if (!rows.length) return { namespaces: [], more: false };
    conds.push(
      inArray(
        metadefNamespaces.namespace,
        rows.map((r) => r.n),
      ),
    );
  }
  // A cloud holds tens of namespaces: sorting them here keeps the paging simple and exact.
  const all = await db
    .select()
    .from(metadefNamespaces)
    .where(and(...conds));
  const value = (n: Namespace) => (key === 'namespace' ? n.namespace : (key === 'created_at' ? n.createdAt : n.updatedAt).getTime());
  const sign = dir === 'asc' ? 1 : -1;
  all.sort((a, b) => sign * (value(a) < value(b) ? -1 : value(a) > value(b) ? 1 : a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0));
  let start = 0;
  if (q.marker) {
    start = all.findIndex((n) => n.namespace === q.marker) + 1;
    if (start === 0) throw notFound(`Metadata definition namespace=${q.marker} was not found.`);
  }
  const page = all.slice(start, start + limit);
  return { namespaces: page, more: start + limit < all.length };
}
