import { randomBytes, randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { AuthContext } from '../lib/http/auth.ts';
import type { Store } from '../lib/store/db.ts';
import type { Engine, StackRow } from './engine.ts';
import { outputsOf } from './outputs.ts';
import { ServiceError } from './services.ts';
import { createStack, deleteStack, resourcesOf, updateStack } from './stacks.ts';
import { stacks } from './tables.ts';
import { waitFor, type NestedStacks, type NestedView } from './resources/types.ts';

interface Owner {
  store: Store;
  engine: Engine;
  parent: StackRow;
  resource: string;
  token: string;
  made(id: string): Promise<void>;
  deadline: number;
  stopping(): boolean;
}

/**
 * A resource's nested stacks, made in this process through the same functions as the API's (the
 * user's token passed on), in the parent's project, with the parent's files and registry.
 */
export function nestedStacks(o: Owner): NestedStacks {
  const auth = { token: o.token, userId: o.parent.userId } as AuthContext;
  const row = async (id: string) => (await o.store.db.select().from(stacks).where(eq(stacks.id, id)))[0];

  /** Waits for the nested stack's action to end; answers its view, or fails with its reason. */
  const ended = async (id: string, action: string): Promise<NestedView> => {
    const stack = await waitFor(o, `Nested stack ${id}`, async () => {
      const r = await row(id);
      if (!r) throw new ServiceError('NotFound', `The nested stack (${id}) is gone.`, 404);
      return r.status === 'IN_PROGRESS' || o.engine.isRunning(id) ? undefined : r;
    });
    if (stack.status !== 'COMPLETE' || stack.action !== action) {
      throw new ServiceError('ResourceFailure', `${stack.action}_${stack.status}: ${stack.statusReason}`, 400);
    }
    const rows = await resourcesOf(o.store, stack);
    const outputs = Object.fromEntries(outputsOf(stack, rows).map((out) => [out.output_key, out.output_value]));
    return { id, outputs, resources: rows.map((r) => ({ name: r.name, type: r.type, physicalId: r.physicalId, data: r.data })) };
  };

  return {
    async create(spec) {
      const id = randomUUID();
      // Recorded as the resource's before the nested stack exists: a crash in between leaves
      // an id that the parent's delete finds gone, never a nested stack nothing points to.
      await o.made(id);
      const name = `${o.parent.name}-${o.resource}-${randomBytes(6).toString('hex')}`.slice(-255).replace(/^[^a-zA-Z]+/, 'n');
      await createStack(
        o.store,
        o.engine,
        auth,
        o.parent.projectId,
        {
          stack_name: name,
          template: spec.template,
          parameters: spec.parameters,
          files: o.parent.files,
          environment: { resource_registry: spec.registry ?? o.parent.registry },
        },
        { id, parentId: o.parent.id },
      );
      return ended(id, 'CREATE');
    },
    async update(id, spec, replaceParameters = false) {
      const stack = await row(id);
      if (!stack) throw new ServiceError('NotFound', `The nested stack (${id}) could not be found.`, 404);
      await updateStack(
        o.store,
        o.engine,
        auth,
        stack,
        { template: spec.template, parameters: spec.parameters, files: o.parent.files, environment: { resource_registry: spec.registry ?? stack.registry } },
        !replaceParameters,
      );
      return ended(id, 'UPDATE');
    },
    async delete(id) {
      const stack = await row(id);
      if (!stack) return;
      await deleteStack(o.store, o.engine, auth, stack);
      await waitFor(o, `Nested stack ${id}`, async () => {
        const r = await row(id);
        if (!r) return true;
        if (r.action === 'DELETE' && r.status === 'FAILED') throw new ServiceError('ResourceFailure', `DELETE_FAILED: ${r.statusReason}`, 400);
        return undefined;
      });
    },
  };
}
