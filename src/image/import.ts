import { Readable } from 'node:stream';
import { and, eq } from 'drizzle-orm';
import { ApiError, badRequest, conflict, forbidden } from '../lib/errors.ts';
import { idleLimited } from '../lib/http/idle.ts';
import { images } from './tables.ts';
import { getOwned, getVisible, type Caller, type Image } from './access.ts';
import { checkBytes, usage } from './quota.ts';
import { storeImageData } from './upload.ts';
import { createTask, finishTask, type Task } from './tasks.ts';
import type { ImageService } from './service.ts';

/** The one store this cloud has, by the id multi-store clients name it with. */
export const STORE_ID = 'default';

/** The import methods this cloud offers: web-download only where the operator allowed URLs. */
export const importMethods = (svc: ImageService) => ['glance-direct', 'copy-image', ...(svc.settings.webDownloadAllow.length ? ['web-download'] : [])];

export interface ImportRequest {
  method: { name: string; uri?: string };
  stores?: string[];
  all_stores?: boolean;
  all_stores_must_succeed?: boolean;
}

export interface Who {
  caller: Caller;
  userId: string;
  requestId: string;
  mayCopy: boolean;
}

/**
 * POST /v2/images/{id}/import: checks the request as Glance does, records the task and moves the
 * image to importing in one transaction, then runs the import in this process. Resolves with the
 * task, or undefined when there is nothing to do (a copy to every store of an image every store
 * already has).
 */
export async function startImport(svc: ImageService, who: Who, id: string, req: ImportRequest): Promise<Task | undefined> {
  const method = req.method.name;
  if (!importMethods(svc).includes(method)) {
    const hint = method === 'web-download' ? ' (the operator allows it for the URLs of the setting image_web_download_allow)' : '';
    throw badRequest(`Import method ${method} is not enabled on this cloud${hint}; enabled methods: ${importMethods(svc).join(', ')}.`);
  }
  if (req.method.uri !== undefined && method !== 'web-download') throw badRequest('URI is only supported with the web-download method.');
  const stores = req.stores ?? [];
  const unknown = stores.find((s) => s !== STORE_ID);
  if (unknown) throw conflict(`Store for identifier ${unknown} not found`);
  if (req.all_stores && stores.length) throw badRequest('All_stores parameter can not be specified with the stores parameter.');

  if (method === 'copy-image') return copyImage(svc, who, id, req);

  const task = await svc.store.tx(async (tx) => {
    const image = await getOwned(tx, who.caller, id, 'import data to');
    checkTarget(image, method);
    if (method === 'glance-direct' && image.uploadingTo) throw conflict(`The data of image ${id} is still being staged.`);
    if (method === 'web-download') checkUri(svc, req.method.uri);
    const task = await createTask(tx, {
      owner: image.owner,
      userId: who.userId,
      imageId: id,
      requestId: who.requestId,
      input: { image_id: id, import_req: req, backend: [STORE_ID] },
    });
    await tx.update(images).set({ status: 'importing', uploadingTo: svc.data.id, updatedAt: new Date() }).where(eq(images.id, id));
    return { task, image: { ...image, status: 'importing' as const } };
  });
  const running = runImport(svc, task.image, task.task, method, req.method.uri).finally(() => svc.imports.delete(running));
  svc.imports.add(running);
  return task.task;
}

function checkTarget(image: Image, method: string): void {
  if (image.status === 'active') throw conflict('Image with status active cannot be target for import');
  if (method === 'web-download' && image.status !== 'queued') throw conflict(`Image needs to be in 'queued' state to use '${method}' method`);
  if (method === 'glance-direct' && image.status !== 'uploading') throw conflict("Image needs to be staged before 'glance-direct' method can be used");
  if (!image.containerFormat) throw conflict("'container_format' needs to be set before import");
  if (!image.diskFormat) throw conflict("'disk_format' needs to be set before import");
}

/** With one store, an active image is always in every store: Glance ends such a request at once
 * for all_stores, and refuses it when the store is named. */
async function copyImage(svc: ImageService, who: Who, id: string, req: ImportRequest): Promise<undefined> {
  const image = await getVisible(svc.store.db, who.caller, id);
  if (image.status !== 'active') throw conflict('Only images with status active can be targeted for copying');
  if (!who.mayCopy) throw forbidden("Policy doesn't allow image:copy_image to be performed.");
  if (req.all_stores) return undefined;
  throw badRequest(`Image is already present at store '${STORE_ID}'`);
}

/** web-download fetches only below a prefix the operator allowed: same scheme, host and port, and
 * a path under the prefix's. */
export function allowedUri(allow: readonly string[], uri: string): boolean {
  if (!URL.canParse(uri)) return false;
  const u = new URL(uri);
  if (u.username || u.password) return false;
  return allow.some((prefix) => {
    const p = new URL(prefix);
    return u.origin === p.origin && u.pathname.startsWith(p.pathname);
  });
}

function checkUri(svc: ImageService, uri: string | undefined): void {
  if (!uri) throw badRequest('The web-download method needs a uri.');
  if (!allowedUri(svc.settings.webDownloadAllow, uri)) {
    throw badRequest(`URI for web-download does not pass filtering: ${uri} (allowed: the prefixes of the setting image_web_download_allow)`);
  }
}

/** The import proper: the staged or downloaded bytes go through the same checks as an upload.
 * The staged copy is dropped either way, as Glance drops it; the image is active, or queued again. */
async function runImport(svc: ImageService, image: Image, task: Task, method: string, uri?: string): Promise<void> {
  try {
    const body = method === 'glance-direct' ? await svc.staging.read(image.id) : await download(svc, image, uri!);
    await storeImageData(svc, image, 'importing', body);
    await finishTask(svc.store.db, task.id, { result: { image_id: image.id } });
  } catch (err) {
    const message = err instanceof ApiError ? err.message : String((err as Error).message ?? err);
    if (!(err instanceof ApiError)) svc.log.error({ err, image: image.id, task: task.id }, 'image import failed');
    await svc.store.db
      .update(images)
      .set({ status: 'queued', size: null, uploadingTo: null, updatedAt: new Date() })
      .where(and(eq(images.id, image.id), eq(images.status, 'importing')))
      .catch(() => undefined);
    await finishTask(svc.store.db, task.id, { message }).catch(() => undefined);
  } finally {
    if (method === 'glance-direct') await svc.staging.delete(image.id).catch(() => undefined);
  }
}

/** A web server silent this long, before its answer or between two chunks of it, is given up on. */
const WEB_IDLE_MS = 60_000;

/** Fetches a web-download URL: redirects are refused rather than followed off the allow-list. */
async function download(svc: ImageService, image: Image, uri: string): Promise<AsyncIterable<Buffer>> {
  const silent = () => badRequest(`web-download of ${uri} sent nothing for ${WEB_IDLE_MS / 1000} s.`);
  // The time limit is the answer's head only: the body may take as long as it keeps coming.
  const waiting = new AbortController();
  const timer = setTimeout(() => waiting.abort(silent()), WEB_IDLE_MS);
  const res = await fetch(uri, { redirect: 'error', signal: waiting.signal })
    .catch((err: Error) => {
      throw waiting.signal.aborted ? err : badRequest(`web-download of ${uri} failed: ${(err.cause as Error | undefined)?.message ?? err.message}`);
    })
    .finally(() => clearTimeout(timer));
  try {
    if (!res.ok || !res.body) throw badRequest(`web-download of ${uri} answered HTTP ${res.status}.`);
    const length = res.headers.get('content-length');
    if (length !== null) checkBytes(svc.quota, (await usage(svc.store.db, image.owner, image.id)).bytes, Number(length));
  } catch (err) {
    await res.body?.cancel();
    throw err;
  }
  return closing(Readable.fromWeb(res.body as never), silent);
}

/** The body's chunks, given up on after a silence; the connection goes with the body however
 * the reading ends. */
async function* closing(body: Readable, silent: () => Error): AsyncGenerator<Buffer> {
  try {
    yield* idleLimited(body, WEB_IDLE_MS, silent);
  } finally {
    body.destroy();
  }
}
