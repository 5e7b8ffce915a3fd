// The dashboard's shell: the login page, the header (views, project switcher, logout), and the
// view the address names, switched without reloading the page.
import { isAdmin, login, logout, session, switchProject, whenExpired } from './api.js';
import { h } from './dom.js';
import { topologyView } from './topology.js';
import { listView } from './lists.js';
import { overviewView } from './overview.js';
import { imageView, serverView } from './details.js';

const VIEWS = [
  ['/overview', 'Overview'],
  ['/topology', 'Topology'],
  ['/servers', 'Servers'],
  ['/images', 'Images'],
  ['/networks', 'Networks'],
  ['/subnets', 'Subnets'],
  ['/routers', 'Routers'],
  ['/floating-ips', 'Floating IPs'],
  ['/load-balancers', 'Load balancers'],
  ['/security-groups', 'Security groups'],
  ['/key-pairs', 'Key pairs'],
  ['/volumes', 'Volumes'],
];
const ADMIN_VIEWS = [
  ['/flavors', 'Flavors'],
  ['/projects', 'Projects'],
  ['/users', 'Users'],
  ['/role-assignments', 'Role assignments'],
  ['/hypervisors', 'Hypervisors'],
];

const main = document.getElementById('main');
const top = document.getElementById('top');
const notice = document.getElementById('notice');
let stop = () => undefined;

/** Says something to the user in the notice line; errors stay until the next message. */
function report(message, error = false) {
  notice.replaceChildren(h('p', { class: error ? 'error' : 'info', role: error ? 'alert' : undefined, text: message }));
  if (!error) setTimeout(() => notice.firstChild?.textContent === message && notice.replaceChildren(), 5000);
}

function go(path, replace = false) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}

function header(s) {
  if (!s) return top.replaceChildren(h('span', { class: 'brand', text: 'Nubo' }));
  const projects = h(
    'select',
    {
      'aria-label': 'Project',
      onchange: async (ev) => {
        try {
          await switchProject(ev.target.value);
          render();
        } catch (err) {
          report(err.message, true);
        }
      },
    },
    s.projects.map((p) => h('option', { value: p.id, selected: p.id === s.project.id, text: p.name })),
  );
  // At a phone's width the views fold under a Menu button (app.css); the header is made again at
  // each view, so following a link folds them again.
  const menu = h('div', { id: 'menu', class: 'menu' }, [
    h(
      'nav',
      { 'aria-label': 'Views' },
      VIEWS.map(([path, title]) => h('a', { href: path, 'aria-current': location.pathname === path ? 'page' : undefined, text: title })),
    ),
    isAdmin()
      ? h(
          'nav',
          { 'aria-label': 'Admin', class: 'admin' },
          ADMIN_VIEWS.map(([path, title]) => h('a', { href: path, 'aria-current': location.pathname === path ? 'page' : undefined, text: title })),
        )
      : null,
  ]);
  const toggle = h('button', {
    type: 'button',
    class: 'menu-toggle',
    'aria-expanded': 'false',
    'aria-controls': 'menu',
    onclick: () => {
      const open = menu.classList.toggle('open');
      toggle.setAttribute('aria-expanded', String(open));
      if (open) menu.querySelector('a')?.focus();
    },
    text: 'Menu',
  });
  menu.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape' || !menu.classList.contains('open')) return;
    menu.classList.remove('open');
    toggle.setAttribute('aria-expanded', 'false');
    toggle.focus();
  });
  top.replaceChildren(
    h('a', { class: 'brand', href: '/topology', text: 'Nubo' }),
    toggle,
    menu,
    h('div', { class: 'who' }, [
      h('label', {}, ['Project ', projects]),
      h('span', { class: 'user', text: `${s.user.name}${s.user.domain && s.user.domain !== 'Default' ? ` @ ${s.user.domain}` : ''}` }),
      h('button', {
        type: 'button',
        onclick: async () => {
          stop();
          await logout();
          report('You are logged out.');
          go('/login');
        },
        text: 'Log out',
      }),
    ]),
  );
}

function loginView() {
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'login', method: 'post', 'aria-labelledby': 'login-title' }, [
    h('h1', { id: 'login-title', text: 'Log in to Nubo' }),
    h('label', {}, ['User name', h('input', { name: 'user', autocomplete: 'username', required: true, autofocus: true })]),
    h('label', {}, ['Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })]),
    h('label', {}, ['Domain', h('input', { name: 'domain', value: 'Default', required: true })]),
    error,
    h('button', { type: 'submit', text: 'Log in' }),
  ]);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const button = form.querySelector('button');
    button.disabled = true;
    error.textContent = '';
    try {
      await login(String(f.get('user')), String(f.get('password')), String(f.get('domain')));
      go('/topology', true);
    } catch (err) {
      error.textContent = err.status === 401 ? 'The user name, password or domain is wrong.' : err.message;
      button.disabled = false;
    }
  });
  main.replaceChildren(form);
  form.querySelector('input').focus();
}

function render() {
  stop();
  stop = () => undefined;
  const s = session();
  const path = location.pathname;
  if (!s) {
    header(null);
    if (path !== '/login') return go('/login', true);
    return loginView();
  }
  if (path === '/' || path === '/login') return go('/topology', true);
  header(s);
  const kind = path.slice(1);
  const ctx = { project: s.project.name, report, go };
  const one = /^\/(servers|images)\/([^/]+)$/.exec(path);
  if (kind === 'topology') stop = topologyView(main, ctx);
  else if (kind === 'overview') stop = overviewView(main, ctx);
  else if (one) stop = (one[1] === 'servers' ? serverView : imageView)(main, decodeURIComponent(one[2]), ctx);
  else if (VIEWS.some(([p]) => p === path) || (isAdmin() && ADMIN_VIEWS.some(([p]) => p === path))) stop = listView(main, kind, ctx);
  else if (ADMIN_VIEWS.some(([p]) => p === path)) main.replaceChildren(h('p', { class: 'error', role: 'alert', text: 'This view is for administrators.' }));
  else go('/topology', true);
}

// Links inside the page change the view without a reload.
document.addEventListener('click', (ev) => {
  const a = ev.target.closest?.('a[href^="/"]');
  if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
  ev.preventDefault();
  go(a.getAttribute('href'));
});
window.addEventListener('popstate', render);
whenExpired(() => {
  report('Your session has ended; please log in again.', true);
  go('/login', true);
});
render();
