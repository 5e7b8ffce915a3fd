// The admin's views: the cloud as a whole, whatever the project. The page offers them to a token
// with the admin role; Nova and Keystone still authorize every call, so a member who reaches one
// of these forms gets the API's refusal, never the change.
import { api, session } from './api.js';
import { deleteButton, h } from './dom.js';
import { folded, form } from './forms.js';

const id = (method, path, body) => api('identity', method, path, body);
const yes = (b) => (b ? 'yes' : 'no');
const byName = (a, b) => a.name.localeCompare(b.name);
const projects = () => id('GET', '/projects').then((b) => b.projects.sort(byName));
const users = () => id('GET', '/users').then((b) => b.users.sort(byName));
const roles = () => id('GET', '/roles').then((b) => b.roles.sort(byName));

/** Enable or Disable, named after what it switches (`Disable project demo`). */
const toggle = (kind, r, act) => {
  const label = r.enabled ? 'Disable' : 'Enable';
  return h('button', { type: 'button', 'aria-label': `${label} ${kind} ${r.name}`, onclick: () => act('toggle', r), text: label });
};

/** Enables or disables a project or a user, after asking when it disables. */
async function switchEnabled(kind, r, report) {
  if (r.enabled && !confirm(`Disable ${kind} ${r.name}? Its tokens stop working.`)) return;
  await id('PATCH', `/${kind}s/${r.id}`, { [kind]: { enabled: !r.enabled } });
  report(`${kind === 'project' ? 'Project' : 'User'} ${r.name} is ${r.enabled ? 'disabled' : 'enabled'}.`);
}

export const adminViews = {
  flavors: {
    title: 'Flavors',
    service: 'compute',
    load: () => api('compute', 'GET', '/flavors/detail?is_public=None').then((b) => b.flavors),
    columns: (act) => [
      ['Name', (r) => r.name],
      ['vCPUs', (r) => String(r.vcpus)],
      ['RAM', (r) => `${r.ram} MB`],
      ['Disk', (r) => `${r.disk} GB`],
      ['Public', (r) => yes(r['os-flavor-access:is_public'] !== false)],
      ['Actions', (r) => deleteButton(`flavor ${r.name}`, () => act('delete', r))],
    ],
    async act(what, r, report) {
      if (!confirm(`Delete flavor ${r.name}? Servers built from it keep running.`)) return;
      await api('compute', 'DELETE', `/flavors/${encodeURIComponent(r.id)}`);
      report(`Flavor ${r.name} is deleted.`);
    },
    form: async (report, done) =>
      folded(
        'Create a flavor',
        form(
          'Create a flavor',
          [
            { name: 'name', label: 'Name', required: true },
            { name: 'vcpus', label: 'vCPUs', type: 'number', min: 1, max: 128, value: 1, required: true },
            { name: 'ram', label: 'RAM (MB)', type: 'number', min: 1, value: 512, required: true },
            { name: 'disk', label: 'Disk (GB)', type: 'number', min: 0, value: 1, required: true },
            { name: 'public', label: 'Public (every project may use it)', type: 'checkbox', value: true },
          ],
          async (v) => {
            const flavor = { name: v.name, vcpus: Number(v.vcpus), ram: Number(v.ram), disk: Number(v.disk), 'os-flavor-access:is_public': v.public };
            await api('compute', 'POST', '/flavors', { flavor });
            return `Flavor ${v.name} is created.`;
          },
          { report, done },
        ),
      ),
  },

  projects: {
    title: 'Projects',
    service: 'identity',
    load: projects,
    // The session's own project is not offered to disable or delete: that would end the session.
    columns: (act) => [
      ['Name', (r) => r.name],
      ['Description', (r) => r.description || '—'],
      ['Enabled', (r) => yes(r.enabled)],
      ['ID', (r) => r.id],
      [
        'Actions',
        (r) =>
          r.id === session().project.id
            ? 'this session’s project'
            : h('div', { class: 'actions' }, [toggle('project', r, act), deleteButton(`project ${r.name}`, () => act('delete', r))]),
      ],
    ],
    async act(what, r, report) {
      if (what === 'toggle') return switchEnabled('project', r, report);
      if (!confirm(`Delete project ${r.name}? Its role assignments go with it.`)) return;
      await id('DELETE', `/projects/${r.id}`);
      report(`Project ${r.name} is deleted.`);
    },
    form: async (report, done) =>
      folded(
        'Create a project',
        form(
          'Create a project',
          [
            { name: 'name', label: 'Name', required: true, maxlength: 64 },
            { name: 'description', label: 'Description' },
            { name: 'enabled', label: 'Enabled', type: 'checkbox', value: true },
          ],
          async (v) => {
            await id('POST', '/projects', { project: { name: v.name, description: v.description, enabled: v.enabled } });
            return `Project ${v.name} is created.`;
          },
          { report, done },
        ),
      ),
  },

  users: {
    title: 'Users',
    service: 'identity',
    async load() {
      const [list, all] = await Promise.all([users(), projects()]);
      const names = new Map(all.map((p) => [p.id, p.name]));
      return list.map((u) => ({ ...u, projectName: u.default_project_id ? (names.get(u.default_project_id) ?? u.default_project_id) : '—' }));
    },
    columns: (act) => [
      ['Name', (r) => r.name],
      ['Email', (r) => r.email || '—'],
      ['Default project', (r) => r.projectName],
      ['Enabled', (r) => yes(r.enabled)],
      [
        'Actions',
        (r) =>
          r.id === session().user.id
            ? 'you'
            : h('div', { class: 'actions' }, [toggle('user', r, act), deleteButton(`user ${r.name}`, () => act('delete', r))]),
      ],
    ],
    async act(what, r, report) {
      if (what === 'toggle') return switchEnabled('user', r, report);
      if (!confirm(`Delete user ${r.name}?`)) return;
      await id('DELETE', `/users/${r.id}`);
      report(`User ${r.name} is deleted.`);
    },
    async form(report, done) {
      const [all, known] = await Promise.all([projects(), roles()]);
      return folded(
        'Create a user',
        form(
          'Create a user',
          [
            { name: 'name', label: 'Name', required: true, maxlength: 255 },
            { name: 'password', label: 'Password', type: 'password', required: true },
            { name: 'email', label: 'Email', type: 'email' },
            { name: 'project', label: 'Default project', type: 'select', blank: '— none —', options: all.map((p) => [p.id, p.name]) },
            {
              name: 'role',
              label: 'Role on that project',
              type: 'select',
              blank: '— none —',
              options: known.map((r) => [r.id, r.name]),
              value: known.find((r) => r.name === 'member')?.id,
              check: (value, v) => (v.project ? undefined : 'A role is given on the default project: choose a project, or no role.'),
            },
            { name: 'enabled', label: 'Enabled', type: 'checkbox', value: true },
          ],
          async (v) => {
            const user = { name: v.name, password: v.password, enabled: v.enabled, ...(v.email ? { email: v.email } : {}) };
            if (v.project) user.default_project_id = v.project;
            const made = (await id('POST', '/users', { user })).user;
            // As the CLI's `user create --project` followed by `role add`: a default project
            // alone gives no access to it.
            if (v.project && v.role) await id('PUT', `/projects/${v.project}/users/${made.id}/roles/${v.role}`);
            return `User ${v.name} is created.`;
          },
          { report, done },
        ),
      );
    },
  },

  'role-assignments': {
    title: 'Role assignments',
    service: 'identity',
    load: () => id('GET', '/role_assignments?include_names=true').then((b) => b.role_assignments),
    columns: (act) => [
      ['Role', (r) => r.role.name ?? r.role.id],
      ['User or group', (r) => (r.user ? `user ${r.user.name ?? r.user.id}` : `group ${r.group?.name ?? r.group?.id}`)],
      [
        'On',
        (r) =>
          r.scope.project
            ? `project ${r.scope.project.name ?? r.scope.project.id}`
            : r.scope.domain
              ? `domain ${r.scope.domain.name ?? r.scope.domain.id}`
              : 'system',
      ],
      ['Inherited', (r) => yes(r.scope['OS-INHERIT:inherited_to'])],
      [
        'Actions',
        // A user's direct role on a project is revoked here; the rest (groups, domains, inherited)
        // from the CLI. The session's own roles on its project are not offered: that would end it.
        (r) =>
          r.user && r.scope.project && !r.scope['OS-INHERIT:inherited_to'] && !(r.user.id === session().user.id && r.scope.project.id === session().project.id)
            ? h('button', {
                type: 'button',
                class: 'danger',
                'aria-label': `Revoke role ${r.role.name} from user ${r.user.name} on project ${r.scope.project.name}`,
                onclick: () => act('revoke', r),
                text: 'Revoke',
              })
            : '—',
      ],
    ],
    async act(what, r, report) {
      const words = `role ${r.role.name} of user ${r.user.name} on project ${r.scope.project.name}`;
      if (!confirm(`Revoke ${words}?`)) return;
      await id('DELETE', `/projects/${r.scope.project.id}/users/${r.user.id}/roles/${r.role.id}`);
      report(`The ${words} is revoked.`);
    },
    async form(report, done) {
      const [u, p, r] = await Promise.all([users(), projects(), roles()]);
      return folded(
        'Grant a role',
        form(
          'Grant a role',
          [
            { name: 'user', label: 'User', type: 'select', required: true, options: u.map((x) => [x.id, x.name]) },
            { name: 'project', label: 'Project', type: 'select', required: true, options: p.map((x) => [x.id, x.name]) },
            { name: 'role', label: 'Role', type: 'select', required: true, options: r.map((x) => [x.id, x.name]) },
          ],
          async (v) => {
            await id('PUT', `/projects/${v.project}/users/${v.user}/roles/${v.role}`);
            const name = (list, key) => list.find((x) => x.id === key)?.name;
            return `User ${name(u, v.user)} has role ${name(r, v.role)} on project ${name(p, v.project)}.`;
          },
          { report, done, button: 'Grant' },
        ),
      );
    },
  },

  hypervisors: {
    title: 'Hypervisors',
    service: 'compute',
    load: () => api('compute', 'GET', '/os-hypervisors/detail').then((b) => b.hypervisors),
    columns: () => [
      ['Host', (r) => r.hypervisor_hostname],
      ['State', (r) => `${r.state}, ${r.status}`],
      ['vCPUs used', (r) => `${r.vcpus_used} of ${r.vcpus}`],
      ['RAM used', (r) => `${r.memory_mb_used} of ${r.memory_mb} MB`],
      ['Disk used', (r) => `${r.local_gb_used} of ${r.local_gb} GB`],
      ['Servers', (r) => String(r.running_vms)],
    ],
  },
};
