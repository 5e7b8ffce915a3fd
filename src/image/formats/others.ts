import { read, type Inspector } from './inspector.ts';

/** Formats qemu understands but Nubo does not serve: recognised only so that they can never pass
 * for a raw disk. */
export const qed: Inspector = function* () {
  const h = yield read(0, 4);
  return h.toString('latin1') === 'QED\0' ? { format: 'qed' } : undefined;
};

export const luks: Inspector = function* () {
  const h = yield read(0, 6);
  return h.equals(Buffer.from('LUKS\xba\xbe', 'latin1')) ? { format: 'luks' } : undefined;
};
