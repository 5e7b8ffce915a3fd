import type { Command } from 'commander';
import { ClientError, HttpError } from '../../client/errors.ts';
import { OrchestrationClient, type Stack } from '../../client/orchestration.ts';
import { connect, deleteCounted } from '../context.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import { environments, templateFiles } from './stack-files.ts';

/** The fields openstack prints after a create or delete, and with `stack show` the rest. */
const short = (s: Stack) => ({
  id: s.id,
  stack_name: s.stack_name,
  description: s.description,
  creation_time: s.creation_time,
  updated_time: s.updated_time,
  stack_status: s.stack_status,
  stack_status_reason: s.stack_status_reason,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Prints the stack's events as they come, as openstack's --wait does, until its action ends;
 * answers the final status (a stack gone during a delete counts as DELETE_COMPLETE). */
async function follow(heat: OrchestrationClient, ref: string, action: string, marker?: string): Promise<string> {
  // The stack's own events carry its id (a resource may bear the stack's name).
  let id: string;
  try {
    id = (await heat.stack(ref)).id;
  } catch (err) {
    if (err instanceof HttpError && err.status === 404 && action === 'DELETE') return 'DELETE_COMPLETE';
    throw err;
  }
  for (;;) {
    let events;
    try {
      events = await heat.events(ref, marker);
    } catch (err) {
      if (err instanceof HttpError && err.status === 404 && action === 'DELETE') return 'DELETE_COMPLETE';
      throw err;
    }
    for (const e of events) {
      const where = e.physical_resource_id === id ? ref : `${ref}.${e.resource_name}`;
      process.stdout.write(`${e.event_time.replace('T', ' ')} [${where}]: ${e.resource_status}  ${e.resource_status_reason}\n`);
      marker = e.id;
      if (e.physical_resource_id === id && [`${action}_COMPLETE`, `${action}_FAILED`].includes(e.resource_status)) return e.resource_status;
    }
    await sleep(1000);
  }
}

/** k=v parameters, as openstack takes them (each --parameter may hold several separated by ;). */
function parameters(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list.flatMap((p) => p.split(';'))) {
    const at = item.indexOf('=');
    if (at < 1) throw new ClientError(`Malformed parameter(${item}). Use the key=value format.`);
    out[item.slice(0, at)] = item.slice(at + 1);
  }
  return out;
}

/** The template, environments and files map a create or update sends, as heatclient builds them. */
function sources(o: { template?: string; environment?: string[] }) {
  const { template, files } = o.template ? templateFiles(o.template) : { template: undefined, files: {} };
  const environment = environments(o.environment ?? [], files);
  return { ...(template ? { template } : {}), ...(environment ? { environment } : {}), files };
}

const repeat = (v: string, all: string[] = []) => [...all, v];

/** A stack named in a command, its 404 said as openstack says it. */
async function found<T>(ref: string, get: () => Promise<T>): Promise<T> {
  try {
    return await get();
  } catch (err) {
    if (err instanceof HttpError && err.status === 404) throw new ClientError(`Stack not found: ${ref}`);
    throw err;
  }
}

export function register(stack: Command): void {
  showOptions(stack.command('create').description('create a stack from a HOT template').argument('<stack-name>', 'name of the new stack'))
    .requiredOption('-t, --template <file>', 'the template')
    .option('-e, --environment <file>', 'an environment (repeat for several; the later ones win)', repeat)
    .option('--parameter <key=value>', 'a parameter value (repeat for several)', repeat)
    .option('--enable-rollback', 'delete what was made when the create fails')
    .option('--timeout <minutes>', 'time the create may take')
    .option('--wait', 'wait for the create to end, printing its events')
    .action(
      async (
        name: string,
        o: { template: string; environment?: string[]; parameter?: string[]; enableRollback?: boolean; timeout?: string; wait?: boolean },
        cmd: Command,
      ) => {
        const read = sources(o);
        const { session } = await connect(cmd);
        const heat = new OrchestrationClient(session);
        await heat.createStack({
          stack_name: name,
          ...read,
          parameters: parameters(o.parameter ?? []),
          disable_rollback: !o.enableRollback,
          ...(o.timeout ? { timeout_mins: Number(o.timeout) } : {}),
        });
        if (o.wait) {
          const status = await follow(heat, name, 'CREATE');
          if (status === 'CREATE_FAILED') throw new ClientError(`\n Stack ${name} CREATE_FAILED \n`);
        }
        await printShow(cmd, short(await heat.stack(name)));
      },
    );

  listOptions(stack.command('list').description("list the project's stacks")).action(async (_o, cmd: Command) => {
    const { session } = await connect(cmd);
    const stacks = await new OrchestrationClient(session).stacks();
    await printList(
      cmd,
      ['ID', 'Stack Name', 'Stack Status', 'Creation Time', 'Updated Time'],
      stacks.map((s) => [s.id, s.stack_name, s.stack_status, s.creation_time, s.updated_time]),
    );
  });

  showOptions(stack.command('show').description('show a stack, its parameters and outputs').argument('<stack>', 'stack name or ID')).action(
    async (ref: string, _o, cmd: Command) => {
      const { session } = await connect(cmd);
      let s: Stack;
      try {
        s = await new OrchestrationClient(session).stack(ref);
      } catch (err) {
        if (err instanceof HttpError && err.status === 404) throw new ClientError(`Stack not found: ${ref}`);
        throw err;
      }
      await printShow(cmd, { ...short(s), parameters: s.parameters, outputs: s.outputs });
    },
  );

  stack
    .command('delete')
    .description('delete stacks and everything they made')
    .argument('<stack...>', 'stack names or IDs')
    .option('-y, --yes', 'do not ask (nubo never asks)')
    .option('--wait', 'wait for the deletes to end')
    .action(async (refs: string[], o: { wait?: boolean }, cmd: Command) => {
      const { session } = await connect(cmd);
      const heat = new OrchestrationClient(session);
      await deleteCounted(
        refs,
        'stacks',
        (ref) => `Unable to delete stack ${ref}`,
        async (ref) => {
          const last = (await heat.events(ref)).at(-1)?.id;
          await heat.deleteStack(ref);
          if (o.wait && (await follow(heat, ref, 'DELETE', last)) === 'DELETE_FAILED') throw new ClientError(`Stack ${ref} DELETE_FAILED`);
        },
      );
    });

  showOptions(stack.command('update').description("change a stack's template or parameters").argument('<stack>', 'stack name or ID'))
    .option('-t, --template <file>', 'the new template (with --existing, the current one when left out)')
    .option('-e, --environment <file>', 'an environment (repeat for several; the later ones win)', repeat)
    .option('--parameter <key=value>', 'a parameter value (repeat for several)', repeat)
    .option('--existing', 'keep the template and parameters not given')
    .option('--dry-run', 'show what the update would do to each resource, changing nothing')
    .option('--wait', 'wait for the update to end, printing its events')
    .action(
      async (
        ref: string,
        o: { template?: string; environment?: string[]; parameter?: string[]; existing?: boolean; dryRun?: boolean; wait?: boolean },
        cmd: Command,
      ) => {
        if (!o.template && !o.existing) throw new ClientError('Need to specify exactly one of --template or --existing');
        const body = { ...sources(o), parameters: parameters(o.parameter ?? []) };
        const { session } = await connect(cmd);
        const heat = new OrchestrationClient(session);
        if (o.dryRun) {
          const changes = await found(ref, () => heat.previewUpdate(ref, body, o.existing === true));
          // As openstack prints them: one field per kind of change, its resources as JSON text.
          const kinds = Object.keys(changes).sort();
          await printShow(cmd, Object.fromEntries(kinds.map((k) => [k, JSON.stringify(changes[k], null, 2)])));
          return;
        }
        const last = (await found(ref, () => heat.events(ref))).at(-1)?.id;
        await heat.updateStack(ref, body, o.existing === true);
        if (o.wait) {
          const status = await follow(heat, ref, 'UPDATE', last);
          if (status === 'UPDATE_FAILED') throw new ClientError(`\n Stack ${ref} UPDATE_FAILED \n`);
        }
        await printShow(cmd, short(await heat.stack(ref)));
      },
    );

  const output = stack.command('output').description("a stack's outputs");
  listOptions(output.command('list').description("list a stack's outputs").argument('<stack>', 'stack name or ID')).action(
    async (ref: string, _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const outputs = await found(ref, () => new OrchestrationClient(session).outputs(ref));
      await printList(
        cmd,
        ['output_key', 'description'],
        outputs.map((x) => [x.output_key, x.description]),
      );
    },
  );
  showOptions(output.command('show').description("show a stack's output").argument('<stack>', 'stack name or ID').argument('<output>', 'output key')).action(
    async (ref: string, key: string, _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const out = await found(ref, () => new OrchestrationClient(session).output(ref, key));
      await printShow(cmd, { ...out });
    },
  );

  const resource = stack.command('resource').description("a stack's resources");
  listOptions(resource.command('list').description("list a stack's resources").argument('<stack>', 'stack name or ID'))
    .option('-n, --nested-depth <depth>', 'also the resources of nested stacks, this many levels down')
    .action(async (ref: string, o: { nestedDepth?: string }, cmd: Command) => {
      const { session } = await connect(cmd);
      const depth = o.nestedDepth === undefined ? 0 : Number(o.nestedDepth);
      if (!Number.isInteger(depth) || depth < 0) throw new ClientError(`Invalid nested depth ${o.nestedDepth}`);
      const rows = await found(ref, () => new OrchestrationClient(session).resources(ref, depth));
      // As openstack does, the stack each resource is in (its link's name) once nested ones show.
      const stackName = (r: (typeof rows)[number]) =>
        r.links
          .find((l) => l.rel === 'stack')
          ?.href.split('/')
          .at(-2) ?? '';
      const columns = ['resource_name', 'physical_resource_id', 'resource_type', 'resource_status', 'updated_time'];
      await printList(
        cmd,
        depth ? [...columns, 'stack_name'] : columns,
        rows.map((r) => [
          r.resource_name,
          r.physical_resource_id,
          r.resource_type,
          r.resource_status,
          r.updated_time,
          ...(depth ? [decodeURIComponent(stackName(r))] : []),
        ]),
      );
    });
  showOptions(
    resource.command('show').description("show a stack's resource").argument('<stack>', 'stack name or ID').argument('<resource>', 'resource name'),
  ).action(async (ref: string, name: string, _o, cmd: Command) => {
    const { session } = await connect(cmd);
    const r = await found(ref, () => new OrchestrationClient(session).resource(ref, name));
    await printShow(cmd, { ...r });
  });

  const event = stack.command('event').description("a stack's events");
  listOptions(event.command('list').description("list a stack's events, oldest first").argument('<stack>', 'stack name or ID'))
    .option('--nested-depth <depth>', 'also the events of nested stacks, this many levels down')
    .action(async (ref: string, o: { nestedDepth?: string }, cmd: Command) => {
      const depth = o.nestedDepth === undefined ? 0 : Number(o.nestedDepth);
      if (!Number.isInteger(depth) || depth < 0) throw new ClientError(`Invalid nested depth ${o.nestedDepth}`);
      const { session } = await connect(cmd);
      const events = await found(ref, () => new OrchestrationClient(session).events(ref, undefined, depth));
      const columns = ['id', 'resource_name', 'resource_status', 'resource_status_reason', 'event_time'];
      await printList(
        cmd,
        depth ? [...columns, 'stack_name'] : columns,
        events.map((e) => [e.id, e.resource_name, e.resource_status, e.resource_status_reason, e.event_time, ...(depth ? [e.stack_name] : [])]),
      );
    });
}
