/** Bytes as people read them: 3.5 MB, 1.2 GB (powers of 1000, as openstackclient's sizes). */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

/**
 * A progress bar on stderr for an upload or a download, drawn where someone watches: when stderr
 * is a terminal, or when asked (--progress). Redrawn at most ten times a second, since a draw
 * per chunk would cost more than the copy. Undefined when nothing is to be drawn.
 */
export function progressBar(total: number | undefined, force = false): { update(bytes: number): void; end(): void } | undefined {
  if (!(force || process.stderr.isTTY) || total === 0) return undefined;
  let last = 0;
  let bytes = 0;
  let widest = 0;
  const line = () => {
    if (total === undefined) return formatBytes(bytes);
    const width = Math.max(10, Math.min(40, (process.stderr.columns || 80) - 40));
    const done = Math.min(1, bytes / total);
    const filled = Math.round(done * (width - 1));
    return `[${'='.repeat(filled)}>${' '.repeat(width - 1 - filled)}] ${Math.floor(done * 100)}%  ${formatBytes(bytes)} / ${formatBytes(total)}`;
  };
  // Each line is padded to the widest yet, so that a shorter one leaves nothing of the last behind.
  const draw = () => {
    const text = line();
    widest = Math.max(widest, text.length);
    process.stderr.write(`\r${text.padEnd(widest)}`);
  };
  return {
    update(n) {
      bytes = n;
      const now = Date.now();
      if (now - last >= 100) {
        last = now;
        draw();
      }
    },
    end() {
      draw();
      process.stderr.write('\n');
    },
  };
}
