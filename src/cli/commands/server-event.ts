import type { Command } from 'commander';
import { ComputeClient } from '../../client/compute.ts';
import { ClientError } from '../../client/errors.ts';
import type { Session } from '../../client/session.ts';
import { connect } from '../context.ts';
import { listOptions, printList, printShow, showOptions } from '../output.ts';
import { sortedFields } from './compute-columns.ts';

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** The server's ID; an ID of a server that no longer exists is taken as it is, as openstackclient
 * does, since a deleted server's actions can still be read. */
async function serverId(session: Session, ref: string): Promise<string> {
  try {
    return (await new ComputeClient(session).findServer(ref, { style: 'nova' })).id;
  } catch (err) {
    if (err instanceof ClientError && UUID.test(ref)) return ref;
    throw err;
  }
}

const get = <T>(session: Session, path: string) => new ComputeClient(session).request<T>('GET', `${session.endpoint('compute')}${path}`);

/** `server event list|show`: a server's instance actions (os-instance-actions) and their events. */
export function registerEvent(server: Command): void {
  const event = server.command('event').description("a server's recorded actions (server event list|show)");

  listOptions(event.command('list').description("list a server's actions").argument('<server>', 'server (name or ID)'))
    .option('--long', 'list additional fields in output')
    .action(async (ref: string, o: { long?: boolean }, cmd: Command) => {
      const { session } = await connect(cmd);
      const id = await serverId(session, ref);
      const { instanceActions } = await get<{ instanceActions: Record<string, unknown>[] }>(session, `/servers/${id}/os-instance-actions`);
      const columns = ['Request ID', 'Server ID', 'Action', 'Start Time', ...(o.long ? ['Message', 'Project ID', 'User ID'] : [])];
      const fields = ['request_id', 'instance_uuid', 'action', 'start_time', 'message', 'project_id', 'user_id'].slice(0, columns.length);
      await printList(
        cmd,
        columns,
        instanceActions.map((a) => fields.map((f) => (f in a ? a[f] : ''))),
      );
    });

  showOptions(
    event
      .command('show')
      .description('show one action of a server and its events')
      .argument('<server>', 'server (name or ID)')
      .argument('<request-id>', 'the request ID of the action'),
  ).action(async (ref: string, requestId: string, _o, cmd: Command) => {
    const { session } = await connect(cmd);
    const id = await serverId(session, ref);
    const { instanceAction } = await get<{ instanceAction: Record<string, unknown> }>(
      session,
      `/servers/${id}/os-instance-actions/${encodeURIComponent(requestId)}`,
    );
    await printShow(cmd, sortedFields(instanceAction));
  });
}
