import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { flag } from '../../lib/http/query.ts';
import { notFound } from '../../lib/errors.ts';
import type { Identity } from '../identity.ts';
import { domains } from '../tables.ts';
import { createDomain, deleteDomain, getDomain, updateDomain } from '../domains.ts';
import { domainView, listLinks } from './views.ts';

const Fields = { description: Type.Optional(Type.Union([Type.String(), Type.Null()])), enabled: Type.Optional(Type.Boolean()) };
const Name = Type.String({ minLength: 1, maxLength: 64 });
const ById = Type.Object({ domain_id: Type.String() });

export function domainRoutes(app: FastifyInstance, identity: Identity): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = identity.store;

  api.get(
    '/v3/domains',
    { config: { policy: 'identity:list_domains' }, schema: { querystring: Type.Object({ name: Type.Optional(Type.String()), enabled: Type.Optional(Type.String()) }) } },
    async (request) => {
      const enabled = flag(request.query.enabled, 'enabled');
      const rows = (await db.select().from(domains).orderBy(domains.name)).filter(
        (d) => (request.query.name === undefined || d.name === request.query.name) && (enabled === undefined || d.enabled === enabled),
      );
      return { domains: rows.map((d) => domainView(request.publicUrl, d)), links: listLinks(request.publicUrl, 'domains') };
    },
  );

  api.post(
    '/v3/domains',
    { config: { policy: 'identity:create_domain' }, schema: { body: Type.Object({ domain: Type.Object({ name: Name, ...Fields }) }) } },
    async (request, reply) => {
      const domain = await identity.change((tx) => createDomain(tx, request.body.domain));
      return reply.status(201).send({ domain: domainView(request.publicUrl, domain) });
    },
  );

  api.get('/v3/domains/:domain_id', { config: { policy: 'identity:get_domain' }, schema: { params: ById } }, async (request) => ({
    domain: domainView(request.publicUrl, await getDomain(db, request.params.domain_id)),
  }));

  api.patch(
    '/v3/domains/:domain_id',
    { config: { policy: 'identity:update_domain' }, schema: { params: ById, body: Type.Object({ domain: Type.Object({ name: Type.Optional(Name), ...Fields }) }) } },
    async (request) => {
      const domain = await identity.change((tx) => updateDomain(tx, request.params.domain_id, request.body.domain));
      return { domain: domainView(request.publicUrl, domain) };
    },
  );

  // Nubo keeps no domain-specific configuration: a domain has no options of its own, as Keystone
  // answers for a domain without any.
  api.get('/v3/domains/:domain_id/config', { config: { policy: 'identity:get_domain_config' }, schema: { params: ById } }, async (request) => {
    await getDomain(db, request.params.domain_id);
    throw notFound(`Could not find any options in domain configuration for domain ${request.params.domain_id}.`);
  });

  api.delete('/v3/domains/:domain_id', { config: { policy: 'identity:delete_domain' }, schema: { params: ById } }, async (request, reply) => {
    await identity.change((tx) => deleteDomain(tx, request.params.domain_id));
    return reply.status(204).send();
  });
}
