import { changedProperties } from './engine.ts';
import { evaluate } from './functions.ts';
import { typeNamed } from './registry.ts';
import { pseudoParameters, scopeOf, type ResourceRow, type StackRow } from './stack-template.ts';
import { invalid, readUpdate, type UpdateRequest } from './stacks.ts';
import { parameterValues } from './template.ts';

export type Change = 'added' | 'deleted' | 'replaced' | 'updated' | 'unchanged';

/**
 * What an update would do to each resource (`stack update --dry-run`), decided as the engine
 * decides it: a resource the stack does not have is added, one the new template drops is deleted,
 * one whose evaluated properties are those it was made with is unchanged, one whose changed
 * properties may all change in place is updated, any other is replaced. Properties that read a
 * resource's attributes are evaluated with the attributes it has now.
 */
export function previewUpdate(stack: StackRow, rows: ResourceRow[], body: UpdateRequest, patch: boolean): Record<Change, ResourceRow[]> {
  const { active, parameters, sources } = readUpdate(stack, body, patch);
  // A replaced resource's predecessor waiting for its delete is no resource of the template.
  const current = new Map(rows.filter((r) => !r.name.includes('~')).map((r) => [r.name, r]));
  const changes: Record<Change, ResourceRow[]> = { added: [], deleted: [], replaced: [], updated: [], unchanged: [] };
  try {
    const params = { ...parameterValues(active, parameters), ...pseudoParameters(stack) };
    const scope = scopeOf(active, params, current);
    for (const [name, def] of Object.entries(active.resources)) {
      const row = current.get(name);
      if (!row) {
        changes.added.push({ stackId: stack.id, name, type: def.type, physicalId: null, action: 'INIT', status: 'COMPLETE', statusReason: '' } as ResourceRow);
        continue;
      }
      const made = row.physicalId !== null && row.status === 'COMPLETE' && row.action !== 'DELETE';
      if (!made || row.type !== def.type) {
        changes.replaced.push(row);
        continue;
      }
      const changed = Object.keys(changedProperties(row.properties ?? {}, evaluate(def.properties, scope) as Record<string, unknown>));
      const type = typeNamed(def.type, sources)!;
      if (!changed.length) changes.unchanged.push(row);
      else if (type.update && changed.every((k) => type.updatable?.includes(k))) changes.updated.push(row);
      else changes.replaced.push(row);
    }
  } catch (err) {
    throw invalid(err);
  }
  for (const row of current.values()) if (!(row.name in active.resources)) changes.deleted.push(row);
  return changes;
}
