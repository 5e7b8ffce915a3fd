import { eq, inArray } from 'drizzle-orm';
import { conflict } from '../lib/errors.ts';
import type { Store } from '../lib/store/db.ts';
import type { Engine } from './engine.ts';
import type { StackRow } from './stack-template.ts';
import { stackEvents, stackResources, stacks } from './tables.ts';

// `stack abandon`: the stack is forgotten and everything it made is left in place, for the user
// to keep or to adopt elsewhere; the answer says what that was, as Heat's does.

type Abandoned = {
  name: string;
  resource_id: string | null;
  type: string;
  action: string;
  status: string;
  metadata: object;
  resource_data: object;
  resources?: object;
};

/** What the stack made, nested stacks' resources under their parent resource; and every stack id. */
async function describe(store: Store, stack: StackRow, ids: string[]): Promise<Record<string, Abandoned>> {
  ids.push(stack.id);
  const rows = await store.db.select().from(stackResources).where(eq(stackResources.stackId, stack.id));
  const children = await store.db.select().from(stacks).where(eq(stacks.parentId, stack.id));
  const out: Record<string, Abandoned> = {};
  for (const r of rows) {
    const child = children.find((c) => c.id === r.physicalId);
    out[r.name] = {
      name: r.name,
      resource_id: r.physicalId,
      type: r.type,
      action: r.action,
      status: r.status,
      metadata: {},
      resource_data: {},
      ...(child ? { resources: await describe(store, child, ids) } : {}),
    };
  }
  return out;
}

/** Forgets the stack (and its nested stacks), leaving what they made; answers Heat's abandon data. */
export async function abandonStack(store: Store, engine: Engine, stack: StackRow) {
  if (engine.isRunning(stack.id) || stack.status === 'IN_PROGRESS') {
    throw conflict(`Stack ${stack.name} is in progress (${stack.action}); wait until it ends before abandoning it.`, 'ActionInProgress');
  }
  const ids: string[] = [];
  const resources = await describe(store, stack, ids);
  await store.tx(async (tx) => {
    await tx.delete(stackResources).where(inArray(stackResources.stackId, ids));
    await tx.delete(stackEvents).where(inArray(stackEvents.stackId, ids));
    await tx.delete(stacks).where(inArray(stacks.id, ids));
  });
  return {
    name: stack.name,
    id: stack.id,
    action: stack.action,
    status: stack.status,
    template: stack.template,
    environment: { parameters: stack.parameters, resource_registry: stack.registry },
    files: stack.files,
    resources,
    project_id: stack.projectId,
    stack_user_project_id: stack.projectId,
    tags: stack.tags,
  };
}
