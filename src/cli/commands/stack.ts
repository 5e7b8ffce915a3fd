import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { ClientError, HttpError } from '../../client/errors.ts';
import { OrchestrationClient, type Stack } from '../../client/orchestration.ts';
import { connect, deleteCounted } from '../context.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';

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
  for (;;) {
    let events;
    try {
      events = await heat.events(ref, marker);
    } catch (err) {
      if (err instanceof HttpError && err.status === 404 && action === 'DELETE') return 'DELETE_COMPLETE';
      throw err;
    }
    for (const e of events) {
      const where = e.resource_name === ref ? ref : `${ref}.${e.resource_name}`;
      process.stdout.write(`${e.event_time.replace('T', ' ')} [${where}]: ${e.resource_status}  ${e.resource_status_reason}\n`);
      marker = e.id;
      if (e.resource_name === ref && [`${action}_COMPLETE`, `${action}_FAILED`].includes(e.resource_status)) return e.resource_status;
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

export function register(stack: Command): void {
  showOptions(stack.command('create').description('create a stack from a HOT template').argument('<stack-name>', 'name of the new stack'))
    .requiredOption('-t, --template <file>', 'the template')
    .option('--parameter <key=value>', 'a parameter value (repeat for several)', (v: string, all: string[] = []) => [...all, v])
    .option('--enable-rollback', 'delete what was made when the create fails')
    .option('--timeout <minutes>', 'time the create may take')
    .option('--wait', 'wait for the create to end, printing its events')
    .action(async (name: string, o: { template: string; parameter?: string[]; enableRollback?: boolean; timeout?: string; wait?: boolean }, cmd: Command) => {
      let template: unknown;
      try {
        template = parseYaml(readFileSync(o.template, 'utf8'));
      } catch (err) {
        throw new ClientError(`Error parsing template ${o.template}: ${(err as Error).message.split('\n')[0]}`);
      }
      const { session } = await connect(cmd);
      const heat = new OrchestrationClient(session);
      await heat.createStack({
        stack_name: name,
        template,
        parameters: parameters(o.parameter ?? []),
        disable_rollback: !o.enableRollback,
        ...(o.timeout ? { timeout_mins: Number(o.timeout) } : {}),
      });
      if (o.wait) {
        const status = await follow(heat, name, 'CREATE');
        if (status === 'CREATE_FAILED') throw new ClientError(`\n Stack ${name} CREATE_FAILED \n`);
      }
      await printShow(cmd, short(await heat.stack(name)));
    });

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
}
