import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

/** One file of the dashboard, ready to send: its bytes, an ETag, and its bytes compressed. */
export interface Asset {
  type: string;
  etag: string;
  raw: Buffer;
  /** Compressed at the first request that takes the encoding, then kept: a start pays nothing. */
  encoded(encoding: 'br' | 'gzip'): Buffer;
}

const COMPRESS = {
  gzip: (raw: Buffer) => gzipSync(raw, { level: 9 }),
  br: (raw: Buffer) => brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Every file of `dir` by name: the dashboard is small (tens of kB) and fixed for the life of the
 * process, so each file is compressed once, at its first request, rather than at each. */
export function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const raw = readFileSync(join(dir, name));
    const encoded: Partial<Record<'br' | 'gzip', Buffer>> = {};
    assets.set(name, {
      type,
      etag: `"${createHash('sha256').update(raw).digest('base64url').slice(0, 22)}"`,
      raw,
      encoded: (encoding) => (encoded[encoding] ??= COMPRESS[encoding](raw)),
    });
  }
  return assets;
}

/** The encoding to send for an Accept-Encoding header: brotli, then gzip, else none. */
export function encodingFor(accept: string | undefined): 'br' | 'gzip' | undefined {
  const offered = new Set(
    (accept ?? '')
      .split(',')
      .map((part) => part.trim().split(';'))
      .filter(([, q]) => !q || !/^\s*q=0(\.0*)?\s*$/.test(q))
      .map(([name]) => name!.trim().toLowerCase()),
  );
  if (offered.has('br')) return 'br';
  if (offered.has('gzip')) return 'gzip';
  return undefined;
}
