import type { Command } from 'commander';
import { ImageClient } from '../../client/image.ts';
import { connect } from '../context.ts';
import { fieldsOf, listOptions, printList, printShow, showOptions } from '../output.ts';
import { projectId } from './image-options.ts';

const domainOption = (cmd: Command) => cmd.option('--project-domain <project-domain>', 'domain the project belongs to (name or ID)');

/** Sharing: `image add project`, `image remove project`, `image member list`. */
export function registerMembers(image: Command): void {
  showOptions(
    domainOption(
      image
        .command('add')
        .description('share images with projects')
        .command('project')
        .description('share an image with a project, which then accepts or rejects it')
        .argument('<image>', 'image to share (name or ID)')
        .argument('<project>', 'project to share it with (name or ID)'),
    ),
  ).action(async (ref: string, project: string, o: { projectDomain?: string }, cmd: Command) => {
    const { session, identity } = await connect(cmd);
    const images = new ImageClient(session);
    const member = await projectId(identity, project, o.projectDomain, true);
    const found = await images.find(ref);
    await printShow(cmd, fieldsOf(await images.addMember(found.id, member)));
  });

  domainOption(
    image
      .command('remove')
      .description('stop sharing images with projects')
      .command('project')
      .description('stop sharing an image with a project')
      .argument('<image>', 'image to unshare (name or ID)')
      .argument('<project>', 'project to stop sharing it with (name or ID)'),
  ).action(async (ref: string, project: string, o: { projectDomain?: string }, cmd: Command) => {
    const { session, identity } = await connect(cmd);
    const images = new ImageClient(session);
    const member = await projectId(identity, project, o.projectDomain);
    await images.removeMember((await images.find(ref)).id, member);
  });

  listOptions(
    image
      .command('member')
      .description('image members')
      .command('list')
      .description('list the projects an image is shared with')
      .argument('<image>', 'image (name or ID)'),
  ).action(async (ref: string, _o, cmd: Command) => {
    const { session } = await connect(cmd);
    const images = new ImageClient(session);
    const members = await images.members((await images.find(ref)).id);
    await printList(
      cmd,
      ['Image ID', 'Member ID', 'Status'],
      members.map((m) => [m.image_id, m.member_id, m.status]),
    );
  });
}
