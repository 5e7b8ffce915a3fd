import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authOf } from '../../lib/http/auth.ts';
import { notFound } from '../../lib/errors.ts';
import type { Db, Store } from '../../lib/store/db.ts';
import { callerOf, type Caller } from '../networks.ts';

const Tag = Type.String({ minLength: 1, maxLength: 255 });

export interface Tagged {
  /** The collection's path segment: networks, subnets, ports. */
  collection: string;
  policy: { read: string; write: string };
  /** The tags of a resource the caller sees (Neutron's 404 otherwise). */
  tagsOf(db: Db, caller: Caller, id: string): Promise<string[]>;
  /** Replaces them, checking the caller may change the resource; returns what was stored. */
  setTags(tx: Db, caller: Caller, id: string, tags: string[]): Promise<string[]>;
}

/** Neutron's standard-attr-tag API on one collection: the whole set, or one tag at a time. */
export function tagRoutes(app: FastifyInstance, store: Store, t: Tagged): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const base = `/${t.collection}/:id/tags`;
  const ById = Type.Object({ id: Type.String() });
  const ByTag = Type.Object({ id: Type.String(), tag: Tag });
  const resource = t.collection.slice(0, -1);
  const missing = (tag: string, id: string) => notFound(`Tag ${tag} could not be found for ${resource} ${id}.`, 'TagNotFound');
  const change = (request: Parameters<typeof authOf>[0], id: string, edit: (tags: string[]) => string[]) =>
    store.tx(async (tx) => {
      const caller = callerOf(authOf(request));
      return t.setTags(tx, caller, id, edit(await t.tagsOf(tx, caller, id)));
    });

  api.get(base, { config: { policy: t.policy.read }, schema: { params: ById } }, async (request) => ({
    tags: await t.tagsOf(store.db, callerOf(authOf(request)), request.params.id),
  }));
  api.put(base, { config: { policy: t.policy.write }, schema: { params: ById, body: Type.Object({ tags: Type.Array(Tag) }) } }, async (request) => ({
    tags: await change(request, request.params.id, () => request.body.tags),
  }));
  api.delete(base, { config: { policy: t.policy.write }, schema: { params: ById } }, async (request, reply) => {
    await change(request, request.params.id, () => []);
    return reply.status(204).send();
  });
  api.get(`${base}/:tag`, { config: { policy: t.policy.read }, schema: { params: ByTag } }, async (request, reply) => {
    const { id, tag } = request.params;
    if (!(await t.tagsOf(store.db, callerOf(authOf(request)), id)).includes(tag)) throw missing(tag, id);
    return reply.status(204).send();
  });
  api.put(`${base}/:tag`, { config: { policy: t.policy.write }, schema: { params: ByTag } }, async (request, reply) => {
    await change(request, request.params.id, (tags) => [...tags, request.params.tag]);
    return reply.status(201).send();
  });
  api.delete(`${base}/:tag`, { config: { policy: t.policy.write }, schema: { params: ByTag } }, async (request, reply) => {
    const { id, tag } = request.params;
    await change(request, id, (tags) => {
      if (!tags.includes(tag)) throw missing(tag, id);
      return tags.filter((x) => x !== tag);
    });
    return reply.status(204).send();
  });
}
