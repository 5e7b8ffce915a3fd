import type { Command } from 'commander';
import { MetadefClient, type MetadefNamespace, type NamespaceFields } from '../../client/image-metadefs.ts';
import { connect, deleteCounted } from '../context.ts';
import { Formatted, listOptions, printList, printShow, showOptions } from '../output.ts';
import { oneOf } from './image-options.ts';

/** A namespace as openstackclient shows it: its fields, and the names of its resource types and
 * properties. */
function namespaceFields(n: MetadefNamespace): Record<string, unknown> {
  const { namespace, display_name, description, owner, visibility, created_at, updated_at, schema } = n;
  const info: Record<string, unknown> = { created_at, description, display_name, namespace, owner, protected: n.protected, schema, updated_at, visibility };
  if (n.resource_type_associations) {
    const names = n.resource_type_associations.map((a) => a.name);
    info.resource_type_associations = new Formatted(names, names.join(', '));
  }
  if (n.properties) {
    const names = Object.keys(n.properties);
    info.properties = new Formatted(names, names.join(', '));
  }
  const shown = Object.entries(info).filter(([, v]) => v !== undefined);
  return Object.fromEntries(shown.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

interface FieldOptions {
  displayName?: string;
  description?: string;
  public?: boolean;
  private?: boolean;
  protected?: boolean;
  unprotected?: boolean;
}

const fieldsOf = (o: FieldOptions): NamespaceFields => ({
  display_name: o.displayName,
  description: o.description,
  visibility: o.public ? 'public' : o.private ? 'private' : undefined,
  protected: o.protected ? true : o.unprotected ? false : undefined,
});

const fieldOptions = (cmd: Command) => {
  cmd.option('--display-name <display_name>', 'a name for people').option('--description <description>', 'what the namespace describes');
  oneOf(cmd, { public: "set namespace visibility 'public'", private: "set namespace visibility 'private'" });
  oneOf(cmd, { protected: 'prevent the namespace from being deleted', unprotected: 'allow the namespace to be deleted (default)' });
  return cmd;
};

/** Metadata definition namespaces, as `openstack image metadef namespace …` has them. */
export function registerMetadefs(image: Command): void {
  const ns = image.command('metadef').description('metadata definitions').command('namespace').description('metadata definition namespaces');

  listOptions(ns.command('list').description('list metadef namespaces'))
    .option('--resource-types <resource_types>', 'only namespaces for these resource types (comma-separated)')
    .option('--visibility <visibility>', 'only namespaces of this visibility')
    .action(async (o: { resourceTypes?: string; visibility?: string }, cmd: Command) => {
      const { session } = await connect(cmd);
      const found = await new MetadefClient(session).list({ resource_types: o.resourceTypes, visibility: o.visibility });
      await printList(
        cmd,
        ['namespace'],
        found.map((n) => [n.namespace]),
      );
    });

  showOptions(ns.command('show').description('show a metadef namespace').argument('<namespace_name>', 'the namespace')).action(
    async (name: string, _o, cmd: Command) => {
      const { session } = await connect(cmd);
      await printShow(cmd, namespaceFields(await new MetadefClient(session).get(name)));
    },
  );

  showOptions(fieldOptions(ns.command('create').description('create a metadef namespace').argument('<namespace>', 'new namespace name'))).action(
    async (name: string, o: FieldOptions, cmd: Command) => {
      const { session } = await connect(cmd);
      await printShow(cmd, namespaceFields(await new MetadefClient(session).create({ namespace: name, ...fieldsOf(o) })));
    },
  );

  fieldOptions(ns.command('set').description("change a metadef namespace's fields").argument('<namespace>', 'the namespace')).action(
    async (name: string, o: FieldOptions, cmd: Command) => {
      const { session } = await connect(cmd);
      const changes = Object.fromEntries(Object.entries(fieldsOf(o)).filter(([, v]) => v !== undefined));
      await new MetadefClient(session).update(name, changes);
    },
  );

  ns.command('delete')
    .description('delete metadef namespaces')
    .argument('<namespace_name...>', 'namespaces to delete')
    .action(async (names: string[], _o, cmd: Command) => {
      const { session } = await connect(cmd);
      const client = new MetadefClient(session);
      await deleteCounted(
        names,
        'namespace',
        (name) => `Failed to delete namespace with name or ID '${name}'`,
        async (name) => client.delete((await client.get(name)).namespace!),
      );
    });
}
