// The overview: the project's quota usage as gauges, from each service's own limits API.
import { api, has, session } from './api.js';
import { h } from './dom.js';

const POLL_MS = 5000;

/** One gauge: a meter (its value, maximum and name for assistive technology) drawn as a bar. */
function gauge(label, used, limit, unit = '') {
  const unlimited = limit === undefined || limit === null || limit < 0;
  const share = unlimited ? 0 : limit === 0 ? 1 : Math.min(1, used / limit);
  const text = unlimited ? `${used}${unit} used, no limit` : `${used}${unit} of ${limit}${unit} used`;
  return h('div', { class: 'gauge' }, [
    h('div', { class: 'gauge-head' }, [h('span', { class: 'gauge-name', text: label }), h('span', { text })]),
    h(
      'div',
      {
        class: `bar ${share >= 0.9 ? 'full' : share >= 0.7 ? 'high' : ''}`,
        role: 'meter',
        'aria-label': label,
        'aria-valuemin': 0,
        'aria-valuemax': unlimited ? used : limit,
        'aria-valuenow': used,
        'aria-valuetext': text,
      },
      h('div', { class: 'fill', 'data-share': share.toFixed(3) }),
    ),
  ]);
}

async function gauges() {
  const s = session();
  const groups = [];
  if (has('compute')) {
    const a = (await api('compute', 'GET', '/limits')).limits.absolute;
    groups.push([
      'Compute',
      [
        gauge('Instances', a.totalInstancesUsed, a.maxTotalInstances),
        gauge('vCPUs', a.totalCoresUsed, a.maxTotalCores),
        gauge('RAM', a.totalRAMUsed, a.maxTotalRAMSize, ' MB'),
      ],
    ]);
  }
  if (has('network')) {
    const q = (await api('network', 'GET', `/quotas/${s.project.id}/details`)).quota;
    const n = (key, label) => q[key] && gauge(label, q[key].used, q[key].limit);
    groups.push([
      'Network',
      [
        n('network', 'Networks'),
        n('subnet', 'Subnets'),
        n('port', 'Ports'),
        n('router', 'Routers'),
        n('floatingip', 'Floating IPs'),
        n('security_group', 'Security groups'),
      ].filter(Boolean),
    ]);
  }
  if (has('volume')) {
    const a = await api('volume', 'GET', '/limits').then(
      (b) => b.limits.absolute,
      () => undefined,
    );
    if (a)
      groups.push([
        'Block storage',
        [gauge('Volumes', a.totalVolumesUsed, a.maxTotalVolumes), gauge('Volume storage', a.totalGigabytesUsed, a.maxTotalVolumeGigabytes, ' GB')],
      ]);
  }
  return groups;
}

/** Mounts the overview in `main`; returns the function that stops its polling. */
export function overviewView(main, { project }) {
  let timer;
  let stopped = false;
  const body = h('div', { class: 'overview' }, h('p', { text: 'Loading…' }));
  main.replaceChildren(h('section', {}, [h('div', { class: 'toolbar' }, [h('h1', { text: `Overview of ${project}` })]), body]));
  const refresh = async () => {
    try {
      const groups = await gauges();
      if (stopped) return;
      body.replaceChildren(...groups.map(([title, items]) => h('section', { class: 'card', 'aria-label': title }, [h('h2', { text: title }), ...items])));
      // Widths set through the CSS object model: the page's policy allows no inline style attribute.
      for (const fill of body.querySelectorAll('.fill')) fill.style.width = `${Number(fill.dataset.share) * 100}%`;
    } catch (err) {
      if (!stopped) body.replaceChildren(h('p', { class: 'error', role: 'alert', text: err.message }));
    }
    if (!stopped) timer = setTimeout(refresh, POLL_MS);
  };
  refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
