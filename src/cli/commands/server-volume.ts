import type { Command } from 'commander';
import { ComputeClient } from '../../client/compute.ts';
import { VolumeClient } from '../../client/volume.ts';
import { connect } from '../context.ts';
import { printShow } from '../output.ts';

// `server add volume` and `server remove volume`, as openstackclient 6.0 does them.

export async function addVolume(cmd: Command, serverRef: string, volumeRef: string, device?: string): Promise<void> {
  const { session } = await connect(cmd);
  const compute = new ComputeClient(session);
  const [server, volume] = await Promise.all([compute.findServer(serverRef, { style: 'sdk' }), new VolumeClient(session).findVolume(volumeRef)]);
  const a = await compute.attachVolume(server.id, volume.id, device);
  // Tags came with 2.49, delete_on_termination with 2.79.
  const [tagged, deleting] = await Promise.all([compute.atLeast('2.49'), compute.atLeast('2.79')]);
  await printShow(cmd, {
    ID: a.id,
    'Server ID': a.serverId,
    'Volume ID': a.volumeId,
    Device: a.device,
    ...(tagged ? { Tag: a.tag ?? null } : {}),
    ...(deleting ? { 'Delete On Termination': a.delete_on_termination ?? null } : {}),
  });
}

export async function removeVolume(cmd: Command, serverRef: string, volumeRef: string): Promise<void> {
  const { session } = await connect(cmd);
  const compute = new ComputeClient(session);
  const [server, volume] = await Promise.all([compute.findServer(serverRef, { style: 'sdk' }), new VolumeClient(session).findVolume(volumeRef)]);
  await compute.detachVolume(server.id, volume.id);
}
