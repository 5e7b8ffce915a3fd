import type { Readable } from 'node:stream';

/**
 * The chunks of a request body as they arrive, failing with `idle()` once the client has sent
 * nothing for `ms` while the reader waited for it: a silent client must not hold an upload open
 * forever. Only waiting on the client counts, never the time the consumer spends on a chunk (a
 * slow disk is not the client's silence). The body is left alive, so that an answer can still go
 * out on its connection.
 */
export async function* idleLimited(body: Readable, ms: number, idle: () => Error): AsyncGenerator<Buffer> {
  let wake = () => {};
  let failure: Error | undefined = body.destroyed && !body.readableEnded ? (body.errored ?? closedEarly()) : undefined;
  const onChange = () => wake();
  const onError = (err: Error) => {
    failure ??= err;
    wake();
  };
  const onClose = () => {
    if (!body.readableEnded) failure ??= closedEarly();
    wake();
  };
  body.on('readable', onChange).on('end', onChange).on('error', onError).on('close', onClose);
  try {
    for (;;) {
      let chunk: Buffer | null;
      while ((chunk = body.read()) !== null) yield chunk;
      if (failure) throw failure;
      if (body.readableEnded) return;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(idle()), ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    wake = () => {};
    body.off('readable', onChange).off('end', onChange).off('error', onError).off('close', onClose);
  }
}

const closedEarly = () => Object.assign(new Error('The request closed before its body ended.'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
