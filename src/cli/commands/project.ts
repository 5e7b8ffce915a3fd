import type { Command } from 'commander';
import type { IdentityClient, Project } from '../../client/identity.ts';
import { connect, createOrShow, deleteEach } from '../context.ts';
import { collect, enableOptions, enabledOf } from '../options.ts';
import { fieldsOf, listOptions, printList, printShow, showOptions } from '../output.ts';

/** The domain filter of a name lookup: `--domain`, resolved by name or ID. */
export async function domainFilter(identity: IdentityClient, domain: string | undefined): Promise<{ domain_id?: string }> {
  return domain ? { domain_id: (await identity.domains.find(domain)).id } : {};
}

/** A project by name or ID, its name looked up in `domain` when one is given. */
export async function findProject(identity: IdentityClient, ref: string, domain?: string): Promise<Project> {
  return identity.projects.find(ref, await domainFilter(identity, domain));
}

const domainOption = (cmd: Command) => cmd.option('--domain <domain>', 'domain owning the project (name or ID)');

export function register(project: Command): void {
  showOptions(
    enableOptions(
      domainOption(project.command('create').description('create a new project').argument('<project-name>', 'new project name')),
      'the project (default)',
    )
      .option('--description <description>', 'project description')
      .option('--tag <tag>', 'tag for the project (repeat for more)', collect)
      .option('--or-show', 'return the existing project of that name'),
  ).action(
    async (name: string, o: { domain?: string; description?: string; enable?: boolean; disable?: boolean; tag?: string[]; orShow?: boolean }, cmd: Command) => {
      const { identity } = await connect(cmd);
      const filter = await domainFilter(identity, o.domain);
      const created = await createOrShow(
        o.orShow,
        () => identity.projects.create({ name, ...filter, description: o.description, enabled: enabledOf(o) ?? true, tags: o.tag }),
        () => identity.projects.find(name, filter),
      );
      await printShow(cmd, fieldsOf(created));
    },
  );

  listOptions(
    domainOption(project.command('list').description('list projects'))
      .option('--user <user>', 'only the projects this user has a role on (name or ID)')
      .option('--my-projects', 'only the projects of the current user')
      .option('--long', 'list more fields'),
  ).action(async (o: { domain?: string; user?: string; myProjects?: boolean; long?: boolean }, cmd: Command) => {
    const { identity } = await connect(cmd);
    const projects = o.myProjects
      ? await identity.myProjects()
      : o.user
        ? await identity.userProjects((await identity.users.find(o.user)).id)
        : await identity.projects.list(await domainFilter(identity, o.domain));
    const columns = o.long ? ['ID', 'Name', 'Domain ID', 'Description', 'Enabled'] : ['ID', 'Name'];
    await printList(
      cmd,
      columns,
      projects.map((p) => (o.long ? [p.id, p.name, p.domain_id, p.description, p.enabled] : [p.id, p.name])),
    );
  });

  showOptions(domainOption(project.command('show').description('show a project').argument('<project>', 'project (name or ID)'))).action(
    async (ref: string, o: { domain?: string }, cmd: Command) => {
      const { identity } = await connect(cmd);
      await printShow(cmd, fieldsOf(await findProject(identity, ref, o.domain)));
    },
  );

  enableOptions(domainOption(project.command('set').description('change a project').argument('<project>', 'project (name or ID)')), 'the project')
    .option('--name <name>', 'new name')
    .option('--description <description>', 'new description')
    .option('--tag <tag>', 'replace the tags with these (repeat for more)', collect)
    .option('--clear-tags', 'remove every tag')
    .option('--remove-tag <tag>', 'remove this tag (repeat for more)', collect)
    .action(
      async (
        ref: string,
        o: {
          domain?: string;
          name?: string;
          description?: string;
          enable?: boolean;
          disable?: boolean;
          tag?: string[];
          clearTags?: boolean;
          removeTag?: string[];
        },
        cmd: Command,
      ) => {
        const { identity } = await connect(cmd);
        const found = await findProject(identity, ref, o.domain);
        let tags = o.clearTags ? [] : o.tag;
        if (o.removeTag) tags = (tags ?? found.tags).filter((t) => !o.removeTag!.includes(t));
        const patch = { name: o.name, description: o.description, enabled: enabledOf(o), tags };
        if (Object.values(patch).some((v) => v !== undefined)) await identity.projects.update(found.id, patch);
      },
    );

  domainOption(project.command('delete').description('delete projects').argument('<project...>', 'projects to delete (name or ID)')).action(
    async (refs: string[], o: { domain?: string }, cmd: Command) => {
      const { identity } = await connect(cmd);
      await deleteEach('project', 'projects', refs, async (ref) => identity.projects.delete((await findProject(identity, ref, o.domain)).id));
    },
  );
}
