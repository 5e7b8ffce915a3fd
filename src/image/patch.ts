import { ApiError, badRequest } from '../lib/errors.ts';
import { checkValue, checkWritable } from './attributes.ts';

/** One step of an image update: set or remove one attribute, core or free. */
export interface Change {
  op: 'add' | 'replace' | 'remove';
  name: string;
  value?: unknown;
}

/** The media types of Glance's JSON patches: v2.1 is RFC 6902 (draft 10), v2.0 the older draft 4
 * form where the operation name holds the path. */
export const PATCH_TYPES: Record<string, 4 | 10> = {
  'application/openstack-images-v2.1-json-patch': 10,
  'application/openstack-images-v2.0-json-patch': 4,
};
const OPS = ['add', 'remove', 'replace'] as const;

export function patchDraft(contentType: string | undefined): 4 | 10 {
  const draft = PATCH_TYPES[(contentType ?? '').split(';')[0]!.trim().toLowerCase()];
  if (!draft) throw new ApiError('UnsupportedMediaType', `Unsupported Content-Type ${contentType ?? '(none)'}; use one of ${Object.keys(PATCH_TYPES).join(', ')}.`);
  return draft;
}

/** Reads a patch body into changes, refusing what Glance refuses: unknown operations, paths deeper
 * than one attribute, read-only and reserved attributes, values of the wrong type. */
export function parsePatch(body: unknown, draft: 4 | 10): Change[] {
  if (!Array.isArray(body)) throw badRequest('Request body must be a JSON array of operation objects.');
  return body.map((raw: unknown) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badRequest('Operations must be JSON objects.');
    const r = raw as Record<string, unknown>;
    let op: unknown;
    let path: unknown;
    if (draft === 10) {
      op = r.op;
      path = r.path;
      if (!OPS.includes(op as (typeof OPS)[number])) throw badRequest(`Invalid operation: \`${String(op)}\`. It must be one of the following: ${OPS.join(', ')}.`);
    } else {
      const named = OPS.filter((o) => o in r);
      if (named.length !== 1) throw badRequest('Operation objects must contain exactly one member named "add", "remove", or "replace".');
      op = named[0];
      path = r[named[0]!];
    }
    if (typeof path !== 'string') throw badRequest("Unable to find 'path' in JSON Schema change");
    const name = attributeOf(path);
    checkWritable(name);
    if (op === 'remove') return { op, name };
    if (!('value' in r)) throw badRequest(`Operation "${String(op)}" requires a member named "value".`);
    checkValue(name, r.value);
    return { op: op as Change['op'], name, value: r.value };
  });
}

/** The one attribute a JSON pointer names: `/name`, with ~1 for "/" and ~0 for "~". */
function attributeOf(pointer: string): string {
  if (!pointer.startsWith('/')) throw badRequest(`Pointer \`${pointer}\` does not start with "/".`);
  if (/~[^01]|~$/.test(pointer)) throw badRequest(`Pointer \`${pointer}\` contains "~" not part of a recognized escape sequence.`);
  const parts = pointer.slice(1).split('/');
  if (parts.length !== 1 || parts[0] === '') throw badRequest(`Invalid JSON pointer for this resource: '${pointer}'`);
  return parts[0]!.replaceAll('~1', '/').replaceAll('~0', '~');
}
