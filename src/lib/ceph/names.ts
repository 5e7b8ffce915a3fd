/** `pool/image` or `pool/image@snap`, as rbd takes them. */
export const rbdSpec = (pool: string, image: string, snap?: string) => `${pool}/${image}${snap ? `@${snap}` : ''}`;

/**
 * QEMU's and qemu-img's legacy `rbd:` filename: the image, then options separated by `:`, with the
 * user's keyring found through the ceph.conf. (QMP blockdev-add takes the same as a driver object.)
 */
export const qemuRbdUri = (opts: { pool: string; image: string; snap?: string; user: string; conf: string }) =>
  `rbd:${rbdSpec(opts.pool, opts.image, opts.snap)}:id=${opts.user}:conf=${opts.conf.replace(/[:\\]/g, (c) => `\\${c}`)}`;
