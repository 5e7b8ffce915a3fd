import { randomBytes, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import type { Logger } from '../lib/log.ts';
import type { Db, Store } from '../lib/store/db.ts';
import { evaluate, TemplateError } from './functions.ts';
import { nestedStacks } from './nested.ts';
import { typeNamed } from './registry.ts';
import { ServiceError, servicesFor, type Services } from './services.ts';
import { signalsOf } from './signals.ts';
import { scopeOf, sourcesOfStack, stackTemplate, typeOf, type ResourceRow, type StackRow } from './stack-template.ts';
import { stackEvents, stackResources, stacks } from './tables.ts';
import type { Template } from './template.ts';

export type { ResourceRow, StackRow } from './stack-template.ts';

/** An action's outcome when the engine stopped under it: its state is left for the next start. */
const STOPPED = 'stopped';

/** Heat's default time a stack's action may take. */
const DEFAULT_TIMEOUT_MINS = 60;

/** Records one event of the stack (resourceName is the stack's name for the stack's own). */
export async function recordEvent(
  db: Db,
  stackId: string,
  e: { resourceName: string; physicalId?: string | null; resourceType?: string; action: string; status: string; reason?: string },
): Promise<void> {
  await db.insert(stackEvents).values({ id: randomUUID(), stackId, ...e, reason: e.reason ?? '' });
}

/** The reason Heat gives for a failed resource: the kind of failure, the resource, the message. */
function failure(name: string, err: unknown): string {
  if (err instanceof ServiceError) return `${err.kind}: resources.${name}: ${err.message}`;
  if (err instanceof TemplateError) return `StackValidationFailed: resources.${name}: ${err.message}`;
  return `Error: resources.${name}: ${(err as Error).message}`;
}

/**
 * Carries out stacks' actions: each resource as soon as what it depends on is done (the
 * independent ones at once), in reverse order for a delete. Every step is written to the store
 * first, so a restart finds where each stack stood. The user's token is kept in memory only, for
 * the action it was given with.
 */
export class Engine {
  private readonly running = new Map<string, Promise<void>>();
  /** The token of each running action, for its nested stacks: in memory only. */
  private readonly tokens = new Map<string, string>();
  /** When each running action must end: the stack's timeout counts from the action's start. */
  private readonly deadlines = new Map<string, number>();
  private stopping = false;

  constructor(
    private readonly store: Store,
    private readonly identityUrl: string,
    private readonly log: Logger,
  ) {}

  /** The other services, as the user whose token this is sees them. */
  services(token: string): Services {
    return servicesFor(this.identityUrl, token);
  }

  isRunning(stackId: string): boolean {
    return this.running.has(stackId);
  }

  /** Ends every wait on another service and lets the running actions finish. */
  async close(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.running.values()]);
  }

  create(stack: StackRow, token: string): void {
    this.start(stack, token, () => this.runCreate(stack, this.services(token)));
  }

  delete(stack: StackRow, token: string): void {
    this.start(stack, token, () => this.runDelete(stack, this.services(token)));
  }

  /** Runs an action; one that breaks off (the store failing under it) leaves the stack FAILED
   * with the cause, never IN_PROGRESS. */
  private start(stack: StackRow, token: string, run: () => Promise<void>): void {
    this.deadlines.set(stack.id, Date.now() + (stack.timeoutMins ?? DEFAULT_TIMEOUT_MINS) * 60_000);
    this.tokens.set(stack.id, token);
    const p = run()
      .catch(async (err) => {
        if (this.stopping) return;
        this.log.error({ err, stack: stack.id }, 'orchestration engine failed');
        await this.setStack(stack, 'FAILED', `Error: ${(err as Error).message}`).catch(() => undefined);
      })
      .finally(() => {
        this.running.delete(stack.id);
        this.deadlines.delete(stack.id);
        this.tokens.delete(stack.id);
      });
    this.running.set(stack.id, p);
  }

  /** An action that a stopped process left in progress cannot go on without the user's token:
   * it is marked FAILED, with what is left for the user to do, and nothing it made is forgotten. */
  async failInterrupted(): Promise<void> {
    const stuck = await this.store.db.select().from(stacks).where(eq(stacks.status, 'IN_PROGRESS'));
    for (const stack of stuck) {
      const reason = `Engine went down during stack ${stack.action}; delete the stack to remove what it made`;
      await this.store.tx(async (tx) => {
        await tx
          .update(stackResources)
          .set({ status: 'FAILED', statusReason: reason, updatedAt: new Date() })
          .where(and(eq(stackResources.stackId, stack.id), eq(stackResources.status, 'IN_PROGRESS')));
        await tx.update(stacks).set({ status: 'FAILED', statusReason: reason, updatedAt: new Date() }).where(eq(stacks.id, stack.id));
        await recordEvent(tx, stack.id, { resourceName: stack.name, physicalId: stack.id, action: stack.action, status: 'FAILED', reason });
      });
    }
  }

  private async setStack(stack: StackRow, status: string, reason: string): Promise<void> {
    await this.store.tx(async (tx) => {
      await tx.update(stacks).set({ action: stack.action, status, statusReason: reason, updatedAt: new Date() }).where(eq(stacks.id, stack.id));
      await recordEvent(tx, stack.id, { resourceName: stack.name, physicalId: stack.id, action: stack.action, status, reason });
    });
  }

  private async setResource(stack: StackRow, row: ResourceRow, change: Partial<ResourceRow>): Promise<void> {
    Object.assign(row, change, { updatedAt: new Date() });
    await this.store.tx(async (tx) => {
      await tx
        .update(stackResources)
        .set({ ...change, updatedAt: row.updatedAt })
        .where(and(eq(stackResources.stackId, stack.id), eq(stackResources.name, row.name)));
      if (change.status) {
        await recordEvent(tx, stack.id, {
          resourceName: row.name,
          physicalId: row.physicalId,
          resourceType: row.type,
          action: row.action,
          status: row.status,
          reason: row.statusReason,
        });
      }
    });
  }

  private context(stack: StackRow, row: ResourceRow, api: Services) {
    const deadline = this.deadlines.get(stack.id) ?? Date.now() + DEFAULT_TIMEOUT_MINS * 60_000;
    const stopping = () => this.stopping;
    const made = async (id: string) => {
      row.physicalId = id;
      await this.store.db
        .update(stackResources)
        .set({ physicalId: id })
        .where(and(eq(stackResources.stackId, stack.id), eq(stackResources.name, row.name)));
    };
    const token = this.tokens.get(stack.id) ?? '';
    return {
      api,
      projectId: stack.projectId,
      stackId: stack.id,
      stackName: stack.name,
      name: row.name,
      deadline,
      stopping,
      made,
      nested: nestedStacks({ store: this.store, engine: this, parent: stack, resource: row.name, token, made, deadline, stopping }),
      config: (id: string) => this.config(stack.projectId, id),
      signals: (id: string) => signalsOf(this.store.db, stack.projectId, id),
    };
  }

  /** The content of a SoftwareConfig or CloudConfig of the project's stacks (a group's member
   * server reads its parent stack's). */
  private async config(projectId: string, id: string): Promise<string | undefined> {
    const found = await this.store.db
      .select({ data: stackResources.data, type: stackResources.type })
      .from(stackResources)
      .innerJoin(stacks, eq(stacks.id, stackResources.stackId))
      .where(and(eq(stacks.projectId, projectId), eq(stackResources.physicalId, id), isNotNull(stackResources.physicalId)));
    const config = found.find((r) => r.type === 'OS::Heat::SoftwareConfig' || r.type === 'OS::Heat::CloudConfig');
    return typeof config?.data.config === 'string' ? config.data.config : undefined;
  }

  /**
   * Runs act on each resource of t once those it depends on are done, independent ones at once;
   * none is started after the first failure or once the engine stops. Answers the first failure
   * (STOPPED when the engine stopped under it) and the resources done.
   */
  private async alongGraph(stack: StackRow, t: Template, rows: Map<string, ResourceRow>, act: (name: string) => Promise<void>) {
    const done = new Set<string>();
    const inFlight = new Map<string, Promise<void>>();
    let failed: string | undefined;
    const run = async (name: string) => {
      try {
        await act(name);
        done.add(name);
      } catch (err) {
        const reason = failure(name, err);
        failed ??= this.stopping ? STOPPED : reason;
        // Left in progress for the next start to mark, when the engine stopped under it.
        if (!this.stopping) await this.setResource(stack, rows.get(name)!, { status: 'FAILED', statusReason: reason });
      }
    };
    const ready = () => Object.keys(t.resources).filter((n) => !done.has(n) && !inFlight.has(n) && t.resources[n]!.dependsOn.every((d) => done.has(d)));
    for (;;) {
      if (!failed && !this.stopping)
        for (const name of ready())
          inFlight.set(
            name,
            run(name).finally(() => inFlight.delete(name)),
          );
      if (inFlight.size === 0) break;
      await Promise.race(inFlight.values());
    }
    return { failed, done };
  }

  private async runCreate(stack: StackRow, api: Services): Promise<void> {
    const { t, params } = stackTemplate(stack);
    const rows = new Map((await this.store.db.select().from(stackResources).where(eq(stackResources.stackId, stack.id))).map((r) => [r.name, r]));
    const scope = scopeOf(t, params, rows);
    const { failed, done } = await this.alongGraph(stack, t, rows, async (name) => {
      const row = rows.get(name)!;
      await this.setResource(stack, row, { action: 'CREATE', status: 'IN_PROGRESS', statusReason: 'state changed' });
      const props = evaluate(t.resources[name]!.properties, scope) as Record<string, unknown>;
      const made = await typeOf(stack, row.type).create(this.context(stack, row, api), props);
      await this.setResource(stack, row, { physicalId: made.id, data: made.data, properties: props, status: 'COMPLETE', statusReason: 'state changed' });
    });
    if (failed === STOPPED || (this.stopping && done.size < rows.size)) return;
    if (!failed) return this.setStack(stack, 'COMPLETE', 'Stack CREATE completed successfully');
    const reason = `Resource CREATE failed: ${failed}`;
    await this.setStack(stack, 'FAILED', reason);
    if (!stack.disableRollback) await this.rollBack(stack, api, reason);
  }

  update(stack: StackRow, previous: Template, token: string): void {
    this.start(stack, token, () => this.runUpdate(stack, previous, this.services(token)));
  }

  /**
   * Brings the stack's resources to its new template, in dependency order: new ones are made,
   * unchanged ones kept, changed ones updated in place where every changed property allows it and
   * replaced otherwise (the new one made before the old one goes); then what the new template no
   * longer has, and the replaced ones, are deleted in reverse order.
   */
  private async runUpdate(stack: StackRow, previous: Template, api: Services): Promise<void> {
    const { t, params } = stackTemplate(stack);
    const all = await this.store.db.select().from(stackResources).where(eq(stackResources.stackId, stack.id));
    const rows = new Map(all.filter((r) => r.name in t.resources).map((r) => [r.name, r]));
    const scope = scopeOf(t, params, rows);
    const retired: ResourceRow[] = [];
    const walked = await this.alongGraph(stack, t, rows, async (name) => {
      const row = rows.get(name)!;
      const def = t.resources[name]!;
      const props = evaluate(def.properties, scope) as Record<string, unknown>;
      const type = typeOf(stack, def.type);
      const made = row.physicalId !== null && row.status === 'COMPLETE' && row.action !== 'DELETE';
      const changed = made && row.type === def.type ? changedProperties(row.properties ?? {}, props) : undefined;
      if (changed && Object.keys(changed).length === 0) return;
      if (changed && type.update && Object.keys(changed).every((k) => type.updatable?.includes(k))) {
        await this.setResource(stack, row, { action: 'UPDATE', status: 'IN_PROGRESS', statusReason: 'state changed' });
        const data = await type.update(this.context(stack, row, api), row.physicalId!, changed, row.data);
        await this.setResource(stack, row, { data, properties: props, status: 'COMPLETE', statusReason: 'state changed' });
      } else {
        if (made) {
          await type.prepareReplace?.(this.context(stack, row, api), row.physicalId!, row.properties ?? {});
          // The old one keeps a row of its own until it is deleted, so that a crash before then
          // leaves it for the stack's delete to find.
          const old = { ...row, name: `${name}${REPLACED}${randomBytes(3).toString('hex')}`, statusReason: 'replaced', updatedAt: new Date() };
          await this.store.db.insert(stackResources).values(old);
          retired.push(old);
        }
        await this.setResource(stack, row, {
          type: def.type,
          action: made ? 'UPDATE' : 'CREATE',
          status: 'IN_PROGRESS',
          statusReason: made ? 'replacing' : 'state changed',
        });
        const created = await type.create(this.context(stack, row, api), props);
        await this.setResource(stack, row, {
          physicalId: created.id,
          data: created.data,
          properties: props,
          status: 'COMPLETE',
          statusReason: 'state changed',
        });
      }
    });
    let failed = walked.failed;
    if (failed === STOPPED || (this.stopping && walked.done.size < rows.size)) return;
    if (!failed) {
      const gone = all.filter((r) => !(r.name in t.resources));
      failed = await this.remove(stack, api, [...gone, ...retired], dependenciesOf(previous));
      if (failed === STOPPED) return;
      if (!failed && gone.length + retired.length) {
        await this.store.db.delete(stackResources).where(
          and(
            eq(stackResources.stackId, stack.id),
            inArray(
              stackResources.name,
              [...gone, ...retired].map((r) => r.name),
            ),
          ),
        );
      }
    }
    if (failed) await this.setStack(stack, 'FAILED', `Resource UPDATE failed: ${failed}`);
    else await this.setStack(stack, 'COMPLETE', 'Stack UPDATE completed successfully');
  }

  /** Removes every resource the stack made, each once nothing that depends on it is left, then
   * the stack itself. A resource already gone counts as removed. */
  private async runDelete(stack: StackRow, api: Services): Promise<void> {
    const failed = await this.removeResources(stack, api);
    if (failed === STOPPED) return;
    if (failed) {
      await this.setStack(stack, 'FAILED', `Resource DELETE failed: ${failed}`);
      return;
    }
    await this.setStack(stack, 'COMPLETE', 'Stack DELETE completed successfully');
    await this.store.tx(async (tx) => {
      await tx.delete(stackResources).where(eq(stackResources.stackId, stack.id));
      await tx.delete(stackEvents).where(eq(stackEvents.stackId, stack.id));
      await tx.delete(stacks).where(eq(stacks.id, stack.id));
    });
  }

  /** After a failed create, with rollback asked for: removes what was made, keeping the stack
   * (ROLLBACK_COMPLETE) so that the user sees why it failed. */
  private async rollBack(stack: StackRow, api: Services, reason: string): Promise<void> {
    const rolling = { ...stack, action: 'ROLLBACK' };
    await this.setStack(rolling, 'IN_PROGRESS', reason);
    const failed = await this.removeResources(rolling, api);
    if (failed === STOPPED) return;
    if (failed) {
      await this.setStack(rolling, 'FAILED', `Resource DELETE failed: ${failed}`);
      return;
    }
    await this.store.db.delete(stackResources).where(eq(stackResources.stackId, stack.id));
    await this.setStack(rolling, 'COMPLETE', 'Stack ROLLBACK completed successfully');
  }

  /** Deletes the stack's resources in reverse dependency order, the independent ones at once;
   * answers the first failure's reason, STOPPED when the engine stopped first, or undefined. */
  private async removeResources(stack: StackRow, api: Services): Promise<string | undefined> {
    const rows = await this.store.db.select().from(stackResources).where(eq(stackResources.stackId, stack.id));
    let dependsOn = new Map<string, string[]>();
    try {
      dependsOn = dependenciesOf(stackTemplate(stack).t);
    } catch {
      // A stack whose template no longer reads (none was ever stored that did not) is removed in any order.
    }
    return this.remove(stack, api, rows, dependsOn);
  }

  /** Deletes the rows' resources, each once none of the others depends on it (a replaced one
   * depends as the resource it was did). */
  private async remove(stack: StackRow, api: Services, rows: ResourceRow[], dependsOn: Map<string, string[]>): Promise<string | undefined> {
    const left = new Map(rows.map((r) => [r.name, r]));
    const inFlight = new Map<string, Promise<void>>();
    let failed: string | undefined;

    const deleteOne = async (row: ResourceRow) => {
      const mark = (status: string, reason: string) => this.setResource(stack, row, { action: 'DELETE', status, statusReason: reason });
      // A create that never recorded an id may still have made something (the engine went down
      // while the other service made it, or before its answer was recorded), even when a delete
      // since was cut in its turn.
      const cut = !row.physicalId && row.action !== 'INIT';
      await mark('IN_PROGRESS', 'state changed');
      try {
        const retained = readRetain(stack, baseName(row.name));
        const type = typeNamed(row.type, sourcesOfStack(stack));
        const ctx = this.context(stack, row, api);
        const id = row.physicalId ?? (cut ? await type?.orphan?.(ctx) : undefined);
        if (id && !retained) await type?.delete(ctx, id, row.data);
        await mark('COMPLETE', 'state changed');
        left.delete(row.name);
      } catch (err) {
        failed ??= this.stopping ? STOPPED : failure(row.name, err);
        // Left in progress for the next start to mark, when the engine stopped under it.
        if (!this.stopping) await mark('FAILED', failure(row.name, err));
      }
    };

    // What still depends on a resource: the resources left that name it.
    const needed = (name: string) => [...left.keys()].some((other) => other !== name && (dependsOn.get(baseName(other)) ?? []).includes(baseName(name)));
    for (;;) {
      if (!failed && !this.stopping) {
        for (const row of left.values()) {
          if (!inFlight.has(row.name) && !needed(row.name))
            inFlight.set(
              row.name,
              deleteOne(row).finally(() => inFlight.delete(row.name)),
            );
        }
      }
      if (inFlight.size === 0) break;
      await Promise.race(inFlight.values());
    }
    if (this.stopping && left.size) return STOPPED;
    return failed ?? (left.size ? 'resources left' : undefined);
  }
}

/** Whether the template asks to keep what the resource made when the stack goes. */
function readRetain(stack: StackRow, name: string): boolean {
  const resources = stack.template.resources as Record<string, { deletion_policy?: string }> | undefined;
  return resources?.[name]?.deletion_policy === 'Retain';
}

/** Marks the row of a resource's replaced predecessor: `server~replaced-1a2b3c`. */
const REPLACED = '~replaced-';
const baseName = (name: string) => name.split(REPLACED)[0]!;

/** What each resource of a template depends on. */
const dependenciesOf = (t: Template) => new Map(Object.entries(t.resources).map(([n, r]) => [n, r.dependsOn]));

/** The properties whose value differs, with their new value (null for one no longer set). */
export function changedProperties(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> {
  const changed: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (!isDeepStrictEqual(before[key] ?? null, after[key] ?? null)) changed[key] = after[key] ?? null;
  }
  return changed;
}
