import { ServiceError } from '../services.ts';
import type { NestedView, ResourceType } from './types.ts';

type Member = { type: string; physicalId: string | null; data: Record<string, any> };

/** The nested template of count copies of resource_def, named 0…count-1, with index_var in each
 * replaced by the copy's index. */
function groupTemplate(p: Record<string, any>): Record<string, unknown> {
  const count = p.count === undefined || p.count === null ? 1 : Number(p.count);
  if (!Number.isInteger(count) || count < 0) throw new ServiceError('StackValidationFailed', `count: ${String(p.count)} is not a number of 0 or more`, 400);
  const def = p.resource_def as Record<string, unknown> | undefined;
  if (!def || typeof def.type !== 'string') throw new ServiceError('StackValidationFailed', 'resource_def: a map with a "type" is required', 400);
  const indexVar = typeof p.index_var === 'string' ? p.index_var : '%index%';
  const member = { type: def.type, ...(def.properties ? { properties: def.properties } : {}), ...(def.metadata ? { metadata: def.metadata } : {}) };
  const json = JSON.stringify(member);
  const resources = Object.fromEntries(Array.from({ length: count }, (_, i) => [String(i), JSON.parse(json.split(indexVar).join(String(i)))]));
  return { heat_template_version: '2016-10-14', resources };
}

/** What the group's attributes are read from: its members in index order, and its definition. */
function groupData(view: NestedView, p: Record<string, unknown>): Record<string, unknown> {
  const members = view.resources
    .filter((r) => /^\d+$/.test(r.name))
    .sort((a, b) => Number(a.name) - Number(b.name))
    .map(({ type, physicalId, data }) => ({ type, physicalId, data }));
  return { members, refs: members.map((m) => m.physicalId), definition: p };
}

/** A member's attribute, as its own type reads it (a template member's from its outputs). */
function memberAttribute(m: Member, name: string, types: Record<string, ResourceType>): unknown {
  return types[m.type]?.attribute?.(m.data, name) ?? m.data.outputs?.[name] ?? m.data[name] ?? null;
}

/** A group of identical resources (count of them), kept as a nested stack that an update grows or shrinks. */
export function resourceGroup(types: () => Record<string, ResourceType>): ResourceType {
  return {
    properties: ['count', 'resource_def', 'index_var', 'removal_policies', 'removal_policies_mode'],
    required: ['resource_def'],
    updatable: ['count', 'resource_def', 'index_var', 'removal_policies', 'removal_policies_mode'],
    attributes: ['refs', 'refs_map', 'attributes', 'removed_rsrc_list'],
    // Any other name is the members' attribute of that name (resource.N, resource.N.name, or a list).
    hasAttribute: () => true,
    nested: true,
    async create(ctx, p) {
      const view = await ctx.nested.create({ template: groupTemplate(p), parameters: {} });
      return { id: view.id, data: groupData(view, p) };
    },
    async update(ctx, id, changed, data) {
      const p = { ...(data.definition as Record<string, unknown>) };
      for (const [k, v] of Object.entries(changed)) {
        if (v === null) delete p[k];
        else p[k] = v;
      }
      const view = await ctx.nested.update(id, { template: groupTemplate(p), parameters: {} }, true);
      return groupData(view, p);
    },
    delete: (ctx, id) => ctx.nested.delete(id),
    attribute(data, name) {
      const members = (data.members ?? []) as Member[];
      if (name === 'refs') return data.refs;
      if (name === 'refs_map') return Object.fromEntries(members.map((m, i) => [String(i), m.physicalId]));
      if (name === 'removed_rsrc_list') return [];
      const one = /^resource\.(\d+)(?:\.(.+))?$/.exec(name);
      if (one) {
        const m = members[Number(one[1])];
        if (!m) return null;
        return one[2] === undefined ? m.physicalId : memberAttribute(m, one[2], types());
      }
      return members.map((m) => memberAttribute(m, name, types()));
    },
  };
}
