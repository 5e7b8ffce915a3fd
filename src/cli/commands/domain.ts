import type { Command } from 'commander';
import { connect, createOrShow, deleteEach } from '../context.ts';
import { enableOptions, enabledOf } from '../options.ts';
import { fieldsOf, listOptions, printList, printShow, showOptions } from '../output.ts';

export function register(domain: Command): void {
  showOptions(enableOptions(domain.command('create').description('create a new domain').argument('<domain-name>', 'new domain name'), 'the domain (default)'))
    .option('--description <description>', 'domain description')
    .option('--or-show', 'return the existing domain of that name')
    .action(async (name: string, o: { description?: string; enable?: boolean; disable?: boolean; orShow?: boolean }, cmd: Command) => {
      const { identity } = await connect(cmd);
      const created = await createOrShow(
        o.orShow,
        () => identity.domains.create({ name, description: o.description, enabled: enabledOf(o) ?? true }),
        () => identity.domains.find(name),
      );
      await printShow(cmd, fieldsOf(created));
    });

  listOptions(domain.command('list').description('list domains')).action(async (_o, cmd: Command) => {
    const { identity } = await connect(cmd);
    const domains = await identity.domains.list();
    await printList(
      cmd,
      ['ID', 'Name', 'Enabled', 'Description'],
      domains.map((d) => [d.id, d.name, d.enabled, d.description]),
    );
  });

  showOptions(domain.command('show').description('show a domain').argument('<domain>', 'domain (name or ID)')).action(async (ref: string, _o, cmd: Command) => {
    const { identity } = await connect(cmd);
    await printShow(cmd, fieldsOf(await identity.domains.find(ref)));
  });

  enableOptions(domain.command('set').description('change a domain').argument('<domain>', 'domain (name or ID)'), 'the domain')
    .option('--name <name>', 'new name')
    .option('--description <description>', 'new description')
    .action(async (ref: string, o: { name?: string; description?: string; enable?: boolean; disable?: boolean }, cmd: Command) => {
      const { identity } = await connect(cmd);
      const found = await identity.domains.find(ref);
      const patch = { name: o.name, description: o.description, enabled: enabledOf(o) };
      if (Object.values(patch).some((v) => v !== undefined)) await identity.domains.update(found.id, patch);
    });

  domain
    .command('delete')
    .description('delete domains (disable them first)')
    .argument('<domain...>', 'domains to delete (name or ID)')
    .action(async (refs: string[], _o, cmd: Command) => {
      const { identity } = await connect(cmd);
      await deleteEach('domain', 'domains', refs, async (ref) => identity.domains.delete((await identity.domains.find(ref)).id));
    });
}
