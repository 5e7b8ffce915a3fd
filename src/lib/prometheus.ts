// Prometheus' text exposition format, as GET /metrics writes it.

/** A label's value, with the backslash, newline and double quote escaped. */
export const labelValue = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/** A metric family: its help and type lines, then its samples; nothing when it has none. */
export const family = (name: string, help: string, type: string, lines: string[]) =>
  lines.length ? `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${lines.join('\n')}\n` : '';
