// The session and every call the page makes: the OpenStack APIs, with the user's token, at the
// endpoints of the token's catalog. The token lives in sessionStorage only (gone with the tab),
// never in a URL, so that it is neither logged by a server nor kept in the browser's history.

const KEY = 'nubo.session';
const IDENTITY = '/identity/v3';

/** @returns {null | {unscoped: string, token: string, user: {id: string, name: string, domain: string}, project: {id: string, name: string}, catalog: any[], roles: string[], projects: {id: string, name: string}[]}} */
export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
  } catch {
    return null;
  }
}

function keep(s) {
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
}

/** An error as the API said it: the message of whichever service's error body this is. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function messageOf(status, body) {
  if (body && typeof body === 'object') {
    if (body.NeutronError?.message) return body.NeutronError.message;
    if (typeof body.message === 'string') return body.message;
    // Octavia's (wsme) fault.
    if (typeof body.faultstring === 'string') return body.faultstring;
    for (const value of Object.values(body)) if (value && typeof value.message === 'string') return value.message;
  }
  if (typeof body === 'string' && body.trim()) return body.trim().slice(0, 300);
  return `The request failed (HTTP ${status}).`;
}

async function call(url, { method = 'GET', token, body, headers = {} } = {}) {
  const h = { accept: 'application/json', ...headers };
  if (token) h['x-auth-token'] = token;
  if (body !== undefined) h['content-type'] ??= 'application/json';
  const res = await fetch(url, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  const text = await res.text();
  let parsed = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: the message is the text.
  }
  if (!res.ok) throw new ApiError(res.status, messageOf(res.status, parsed));
  return { body: parsed, headers: res.headers };
}

/** A scoped token's session from Keystone's answer. */
function scoped(unscoped, projects, res) {
  const t = res.body.token;
  return {
    unscoped,
    token: res.headers.get('x-subject-token'),
    user: { id: t.user.id, name: t.user.name, domain: t.user.domain?.name ?? '' },
    project: { id: t.project.id, name: t.project.name },
    catalog: t.catalog ?? [],
    roles: (t.roles ?? []).map((r) => r.name),
    projects,
  };
}

async function scopeTo(unscoped, projects, projectId) {
  const res = await call(`${IDENTITY}/auth/tokens`, {
    method: 'POST',
    body: { auth: { identity: { methods: ['token'], token: { id: unscoped } }, scope: { project: { id: projectId } } } },
  });
  return scoped(unscoped, projects, res);
}

/** Password login, then a token for the project used last (or the first one the user has). */
export async function login(user, password, domain) {
  const res = await call(`${IDENTITY}/auth/tokens?nocatalog`, {
    method: 'POST',
    body: { auth: { identity: { methods: ['password'], password: { user: { name: user, domain: { name: domain || 'Default' }, password } } } } },
  });
  const unscoped = res.headers.get('x-subject-token');
  const { body } = await call(`${IDENTITY}/auth/projects`, { token: unscoped });
  const projects = body.projects.filter((p) => p.enabled !== false).map((p) => ({ id: p.id, name: p.name }));
  projects.sort((a, b) => a.name.localeCompare(b.name));
  if (!projects.length) {
    await revoke(unscoped);
    throw new ApiError(403, 'This user has no role on any project.');
  }
  const last = localStorage.getItem('nubo.project');
  const s = await scopeTo(unscoped, projects, projects.find((p) => p.id === last)?.id ?? projects[0].id);
  keep(s);
  return s;
}

/** Moves the session to another of the user's projects: a new token scoped to it. */
export async function switchProject(projectId) {
  const s = session();
  const next = await scopeTo(s.unscoped, s.projects, projectId);
  // The new token first: a call still under way with the old one must not end the session.
  keep(next);
  localStorage.setItem('nubo.project', projectId);
  await revoke(s.token);
  return next;
}

async function revoke(token) {
  await call(`${IDENTITY}/auth/tokens`, { method: 'DELETE', token, headers: { 'x-subject-token': token } }).catch(() => undefined);
}

/** Revokes both of the session's tokens, so that a copy of either is worthless. */
export async function logout() {
  const s = session();
  keep(null);
  if (!s) return;
  await revoke(s.token);
  await revoke(s.unscoped);
}

/** What the session holds when a call finds its token refused: the user must log in again. */
let onExpired = () => undefined;
export const whenExpired = (f) => (onExpired = f);

/** A service's public endpoint from the catalog. The page talks to its own origin, the cloud that
 * served it, whatever host name the catalog was written with: the same endpoint, and no
 * cross-origin request to allow. */
function endpoint(s, types) {
  for (const type of types) {
    const service = s.catalog.find((c) => c.type === type);
    const ep = service?.endpoints.find((e) => e.interface === 'public') ?? service?.endpoints[0];
    if (ep) {
      const url = new URL(ep.url, location.href);
      return `${location.origin}${url.pathname.replace(/\/$/, '')}`;
    }
  }
  return undefined;
}

/** Version roots below each service's catalog endpoint, as the OpenStack clients append them. */
const SERVICES = {
  compute: { types: ['compute'], suffix: '' },
  network: { types: ['network'], suffix: '/v2.0' },
  image: { types: ['image'], suffix: '/v2' },
  volume: { types: ['block-storage', 'volumev3'], suffix: '' },
  identity: { types: ['identity'], suffix: '/v3' },
  'load-balancer': { types: ['load-balancer'], suffix: '/v2' },
};

/** Whether the session's token carries the admin role: the page then offers the admin's views,
 * which the APIs still authorize call by call. */
export const isAdmin = () => Boolean(session()?.roles.includes('admin'));

/** Whether the cloud offers a service to this session. */
export const has = (service) => Boolean(session() && endpoint(session(), SERVICES[service].types));

/** A call to a service's API with the session's token; the parsed body. `headers` for the few
 * calls that need more (Glance's JSON-patch content type). */
export async function api(service, method, path, body, headers) {
  const s = session();
  if (!s) throw new ApiError(401, 'Not logged in.');
  const base = endpoint(s, SERVICES[service].types);
  if (!base) throw new ApiError(404, `This cloud has no ${service} service.`);
  try {
    return (await call(`${base}${SERVICES[service].suffix}${path}`, { method, token: s.token, body, headers })).body;
  } catch (err) {
    // Only when the token refused is still the session's: not one just replaced or logged out.
    if (err instanceof ApiError && err.status === 401 && session()?.token === s.token) {
      keep(null);
      onExpired();
    }
    throw err;
  }
}

/** Sends a file as a PUT's body, streamed by the browser from disk, calling progress(sent, total)
 * as it goes: XMLHttpRequest, since fetch tells nothing of an upload's progress. */
export function upload(service, path, file, progress) {
  const s = session();
  const base = s && endpoint(s, SERVICES[service].types);
  if (!base) return Promise.reject(new ApiError(401, 'Not logged in.'));
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', `${base}${SERVICES[service].suffix}${path}`);
    xhr.setRequestHeader('x-auth-token', s.token);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.onprogress = (e) => progress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      if (xhr.status < 300) return resolve();
      let body = xhr.responseText;
      try {
        body = JSON.parse(body);
      } catch {
        // Not JSON: the message is the text.
      }
      reject(new ApiError(xhr.status, messageOf(xhr.status, body)));
    };
    xhr.onerror = () => reject(new ApiError(0, 'The upload was cut off.'));
    xhr.send(file);
  });
}

/** GETs of a list, as they are. */
export const list = (service, path, key) => api(service, 'GET', path).then((b) => b[key]);
