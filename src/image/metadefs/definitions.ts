import { and, asc, eq } from 'drizzle-orm';
import { badRequest, conflict, forbidden, notFound } from '../../lib/errors.ts';
import type { Db } from '../../lib/store/db.ts';
import { metadefAssociations, metadefNamespaces, metadefObjects, metadefProperties, metadefResourceTypes, metadefTags } from '../tables.ts';

// The definitions inside a namespace: properties, objects, tags, and the resource types it
// applies to. The caller has already found the namespace readable, and writes are the admin's.

export type Property = typeof metadefProperties.$inferSelect;
export type MetadefObject = typeof metadefObjects.$inferSelect;
export type Tag = typeof metadefTags.$inferSelect;
export type Association = typeof metadefAssociations.$inferSelect;

export interface ObjectBody {
  name?: unknown;
  description?: unknown;
  required?: unknown;
  properties?: Record<string, Record<string, unknown>>;
}
export interface AssociationBody {
  name?: unknown;
  prefix?: unknown;
  properties_target?: unknown;
}

export function checkName(field: string, value: unknown, max: number): string {
  if (typeof value !== 'string' || !value.trim() || value.length > max) throw badRequest(`${field} must be a string of 1 to ${max} characters.`);
  return value;
}

const TYPES = new Set(['array', 'boolean', 'integer', 'number', 'object', 'string']);
const KEYS = new Set([
  'title',
  'description',
  'operators',
  'type',
  'required',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
  'enum',
  'readonly',
  'default',
  'items',
  'minItems',
  'maxItems',
  'uniqueItems',
  'additionalItems',
]);

/** A property definition's schema (its name apart), as the property schema allows it. */
export function checkProperty(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('A property definition must be an object.');
  const schema = { ...(body as Record<string, unknown>) };
  delete schema.name;
  const unknown = Object.keys(schema).find((k) => !KEYS.has(k));
  if (unknown) throw badRequest(`Additional properties are not allowed ('${unknown}' was unexpected)`);
  if (typeof schema.title !== 'string') throw badRequest("'title' is a required property");
  if (typeof schema.type !== 'string' || !TYPES.has(schema.type)) throw badRequest(`'type' must be one of ${[...TYPES].join(', ')}`);
  if (schema.enum !== undefined && !Array.isArray(schema.enum)) throw badRequest("'enum' must be a list");
  return schema;
}

/** Nothing is deleted from a protected namespace; `what` names the definition, as Glance does. */
async function refuseIfProtected(tx: Db, namespace: string, what: string): Promise<void> {
  const [ns] = await tx.select({ protected: metadefNamespaces.protected }).from(metadefNamespaces).where(eq(metadefNamespaces.namespace, namespace));
  if (ns?.protected) throw forbidden(`Metadata definition ${what} is protected and cannot be deleted.`);
}

// Properties

export const listProperties = (db: Db, ns: string) =>
  db.select().from(metadefProperties).where(eq(metadefProperties.namespace, ns)).orderBy(asc(metadefProperties.name));

export async function getProperty(db: Db, ns: string, name: string): Promise<Property> {
  const [row] = await db
    .select()
    .from(metadefProperties)
    .where(and(eq(metadefProperties.namespace, ns), eq(metadefProperties.name, name)));
  if (!row) throw notFound(`Metadata definition property=${name} not found in namespace=${ns}.`);
  return row;
}

/** Creates a property, or replaces one (renaming it when the body names another). */
export async function putProperty(tx: Db, ns: string, body: Record<string, unknown>, replacing?: string): Promise<Property> {
  const name = checkName('name', body.name ?? replacing, 255);
  const schema = checkProperty(body);
  if (replacing) await getProperty(tx, ns, replacing);
  if (name !== replacing) {
    const [taken] = await tx
      .select({ n: metadefProperties.name })
      .from(metadefProperties)
      .where(and(eq(metadefProperties.namespace, ns), eq(metadefProperties.name, name)));
    if (taken) throw conflict(`A metadata definition property with name=${name} already exists in namespace=${ns}.`);
  }
  if (replacing) {
    const [row] = await tx
      .update(metadefProperties)
      .set({ name, schema, updatedAt: new Date() })
      .where(and(eq(metadefProperties.namespace, ns), eq(metadefProperties.name, replacing)))
      .returning();
    return row!;
  }
  const [row] = await tx.insert(metadefProperties).values({ namespace: ns, name, schema }).returning();
  return row!;
}

export async function deleteProperty(tx: Db, ns: string, name: string): Promise<void> {
  await refuseIfProtected(tx, ns, `property ${name}`);
  await getProperty(tx, ns, name);
  await tx.delete(metadefProperties).where(and(eq(metadefProperties.namespace, ns), eq(metadefProperties.name, name)));
}

// Objects

export const listObjects = (db: Db, ns: string) => db.select().from(metadefObjects).where(eq(metadefObjects.namespace, ns)).orderBy(asc(metadefObjects.name));

export async function getObject(db: Db, ns: string, name: string): Promise<MetadefObject> {
  const [row] = await db
    .select()
    .from(metadefObjects)
    .where(and(eq(metadefObjects.namespace, ns), eq(metadefObjects.name, name)));
  if (!row) throw notFound(`Metadata definition object=${name} not found in namespace=${ns}.`);
  return row;
}

function objectValues(body: ObjectBody) {
  const required = body.required ?? [];
  if (!Array.isArray(required) || required.some((r) => typeof r !== 'string')) throw badRequest("'required' must be a list of property names.");
  const properties: Record<string, Record<string, unknown>> = {};
  for (const [name, schema] of Object.entries(body.properties ?? {})) properties[checkName('property name', name, 255)] = checkProperty(schema);
  const description = body.description === undefined || body.description === null ? null : String(body.description);
  return { name: checkName('name', body.name, 80), description, required: required as string[], properties };
}

/** Creates an object (replace false) or replaces the one named `replacing`. */
export async function putObject(tx: Db, ns: string, body: ObjectBody, replacing: string | false): Promise<MetadefObject> {
  const values = objectValues({ ...body, name: body.name ?? (replacing || undefined) });
  if (replacing) await getObject(tx, ns, replacing);
  if (values.name !== replacing) {
    const [taken] = await tx
      .select({ n: metadefObjects.name })
      .from(metadefObjects)
      .where(and(eq(metadefObjects.namespace, ns), eq(metadefObjects.name, values.name)));
    if (taken) throw conflict(`A metadata definition object with name=${values.name} already exists in namespace=${ns}.`);
  }
  if (replacing) {
    const [row] = await tx
      .update(metadefObjects)
      .set({ ...values, updatedAt: new Date() })
      .where(and(eq(metadefObjects.namespace, ns), eq(metadefObjects.name, replacing)))
      .returning();
    return row!;
  }
  const [row] = await tx
    .insert(metadefObjects)
    .values({ namespace: ns, ...values })
    .returning();
  return row!;
}

export async function deleteObject(tx: Db, ns: string, name: string): Promise<void> {
  await refuseIfProtected(tx, ns, `object ${name}`);
  await getObject(tx, ns, name);
  await tx.delete(metadefObjects).where(and(eq(metadefObjects.namespace, ns), eq(metadefObjects.name, name)));
}

// Tags

export const listTags = (db: Db, ns: string) => db.select().from(metadefTags).where(eq(metadefTags.namespace, ns)).orderBy(asc(metadefTags.name));

export async function getTag(db: Db, ns: string, name: string): Promise<Tag> {
  const [row] = await db
    .select()
    .from(metadefTags)
    .where(and(eq(metadefTags.namespace, ns), eq(metadefTags.name, name)));
  if (!row) throw notFound(`Metadata definition tag=${name} not found in namespace=${ns}.`);
  return row;
}

export async function createTag(tx: Db, ns: string, name: string): Promise<Tag> {
  checkName('tag name', name, 255);
  const [taken] = await tx
    .select({ n: metadefTags.name })
    .from(metadefTags)
    .where(and(eq(metadefTags.namespace, ns), eq(metadefTags.name, name)));
  if (taken) throw conflict(`A metadata tag with name=${name} already exists in namespace=${ns}.`);
  const [row] = await tx.insert(metadefTags).values({ namespace: ns, name }).returning();
  return row!;
}

/** POST /namespaces/{ns}/tags: the namespace's tags become those given, or gain them (append). */
export async function setTags(tx: Db, ns: string, names: string[], append: boolean): Promise<Tag[]> {
  if (!append) await tx.delete(metadefTags).where(eq(metadefTags.namespace, ns));
  const have = new Set((await listTags(tx, ns)).map((t) => t.name));
  for (const name of names) {
    if (have.has(name)) throw conflict(`A metadata tag with name=${name} already exists in namespace=${ns}.`);
    await tx.insert(metadefTags).values({ namespace: ns, name });
  }
  return listTags(tx, ns);
}

export async function renameTag(tx: Db, ns: string, name: string, to: unknown): Promise<Tag> {
  await getTag(tx, ns, name);
  const next = checkName('name', to, 255);
  if (next !== name) {
    const [taken] = await tx
      .select({ n: metadefTags.name })
      .from(metadefTags)
      .where(and(eq(metadefTags.namespace, ns), eq(metadefTags.name, next)));
    if (taken) throw conflict(`A metadata tag with name=${next} already exists in namespace=${ns}.`);
  }
  const [row] = await tx
    .update(metadefTags)
    .set({ name: next, updatedAt: new Date() })
    .where(and(eq(metadefTags.namespace, ns), eq(metadefTags.name, name)))
    .returning();
  return row!;
}

export async function deleteTag(tx: Db, ns: string, name: string): Promise<void> {
  await refuseIfProtected(tx, ns, `tag ${name}`);
  await getTag(tx, ns, name);
  await tx.delete(metadefTags).where(and(eq(metadefTags.namespace, ns), eq(metadefTags.name, name)));
}

// Resource types and their associations

export const listResourceTypes = (db: Db) => db.select().from(metadefResourceTypes).orderBy(asc(metadefResourceTypes.name));

export const listAssociations = (db: Db, ns: string) =>
  db.select().from(metadefAssociations).where(eq(metadefAssociations.namespace, ns)).orderBy(asc(metadefAssociations.resourceType));

/** Associates a namespace with a resource type, which becomes known if it was not. */
export async function addAssociation(tx: Db, ns: string, body: AssociationBody): Promise<Association> {
  const name = checkName('name', body.name, 80);
  const text = (field: string, v: unknown) => (v === undefined || v === null ? null : checkName(field, v, 80));
  await tx.insert(metadefResourceTypes).values({ name }).onConflictDoNothing();
  const [taken] = await tx
    .select({ n: metadefAssociations.namespace })
    .from(metadefAssociations)
    .where(and(eq(metadefAssociations.namespace, ns), eq(metadefAssociations.resourceType, name)));
  if (taken) throw conflict(`The metadata definition resource-type association of resource-type=${name} to namespace=${ns}, already exists.`);
  const [row] = await tx
    .insert(metadefAssociations)
    .values({ namespace: ns, resourceType: name, prefix: text('prefix', body.prefix), propertiesTarget: text('properties_target', body.properties_target) })
    .returning();
  return row!;
}

export async function removeAssociation(tx: Db, ns: string, name: string): Promise<void> {
  await refuseIfProtected(tx, ns, `resource-type-association ${name}`);
  const gone = await tx
    .delete(metadefAssociations)
    .where(and(eq(metadefAssociations.namespace, ns), eq(metadefAssociations.resourceType, name)))
    .returning({ n: metadefAssociations.namespace });
  if (!gone.length) throw notFound(`The metadata definition resource-type association of resource-type=${name} to namespace=${ns}, was not found.`);
}
