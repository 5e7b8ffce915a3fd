import { open, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ApiError, forbidden } from '../../lib/errors.ts';
import { authOf } from '../../lib/http/auth.ts';
import { idleLimited } from '../../lib/http/idle.ts';
import { callerOf, getVisible } from '../access.ts';
import { uploadImageData } from '../upload.ts';
import { sendFile } from './send-file.ts';
import type { ImageService } from '../service.ts';

const ById = Type.Object({ image_id: Type.String() });

/** Reads and discards what the client still sends after a refusal, so that it finishes sending
 * and reads the answer. Cutting the connection instead makes clients such as openstacksdk retry
 * the upload with the rest of their file: a headless tail that could pass for a raw disk. */
function discardRest(req: IncomingMessage): void {
  if (!req.complete && !req.destroyed) req.resume();
}

/** `bytes=first-last`, `bytes=first-` or `bytes=-suffix`, one range only, as Glance serves them. */
function rangeOf(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  const [start, end] = !m || (!m[1] && !m[2]) ? [NaN, NaN] : m[1] ? [Number(m[1]), m[2] ? Math.min(Number(m[2]), size - 1) : size - 1] : [size - Number(m[2]), size - 1];
  if (!(start >= 0 && start <= end && end < size)) {
    throw new ApiError('BadRequest', `Requested range ${header} not satisfiable for ${size} bytes.`, 'BadRequest', 416);
  }
  return { start, end };
}

/** Image data: streamed in from the request and out to the response, never held whole. A client
 * that stays silent for `idleMs` (sends nothing of an upload, reads nothing of a download) loses
 * its connection, and whatever the transfer held is let go. */
export function dataRoutes(app: FastifyInstance, svc: ImageService, idleMs: number): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  // The upload handler reads the request itself, as it arrives: this parser hands over the stream,
  // which Fastify's body limit does not apply to. Bodies of other types keep the limit, so that
  // nothing is buffered whole.
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));

  api.put(
    '/v2/images/:image_id/file',
    { config: { policy: 'image:upload_image' }, schema: { params: ById } },
    async (request, reply) => {
      if (!(request.body instanceof Readable)) throw new ApiError('UnsupportedMediaType', 'Image data must be sent as application/octet-stream.');
      const length = request.headers['content-length'] === undefined ? undefined : Number(request.headers['content-length']);
      const id = request.params.image_id;
      const silent = () => new ApiError('BadRequest', `No data came for ${idleMs / 1000} s: the upload of image ${id} is abandoned.`, 'RequestTimeout', 408);
      try {
        await uploadImageData(svc, callerOf(authOf(request)), id, idleLimited(request.body, idleMs, silent), length);
      } catch (err) {
        // A silent client gets its answer, then loses the connection rather than be waited on.
        if (err instanceof ApiError && err.status === 408) reply.header('connection', 'close');
        else discardRest(request.raw);
        throw err;
      }
      return reply.status(204).send();
    },
  );

  api.get('/v2/images/:image_id/file', { config: { policy: 'image:download_image' }, schema: { params: ById } }, async (request, reply) => {
    const c = callerOf(authOf(request));
    const image = await getVisible(svc.store.db, c, request.params.image_id);
    if (image.status === 'deactivated' && !c.admin) throw forbidden('The requested image has been deactivated. Image data download is forbidden.');
    if (image.status !== 'active' && image.status !== 'deactivated') return reply.status(204).send();
    const size = image.size!;
    const range = rangeOf(request.headers.range, size);
    // A store that keeps the bytes in a local file has them sent from it by the event loop itself.
    const local = svc.data.localFile?.(image.id);
    let source: Readable | FileHandle;
    try {
      source = local ? await open(local, 'r') : await svc.data.read(image.id, range);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      request.log.error({ err, image: image.id }, 'image data missing from the store');
      throw new ApiError('Unavailable', `The data of image ${image.id} cannot be read from the store.`);
    }
    reply.header('content-type', 'application/octet-stream');
    // A client that stops reading loses the connection, and the file is closed with the stream.
    reply.raw.setTimeout(idleMs, () => reply.raw.destroy());
    if (range) {
      reply.status(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`).header('content-length', range.end - range.start + 1);
    } else {
      reply.header('content-length', size).header('content-md5', image.checksum);
    }
    if (source instanceof Readable) return reply.send(source);
    sendFile(reply, source, range?.start ?? 0, range?.end ?? size - 1);
    return reply;
  });
}
