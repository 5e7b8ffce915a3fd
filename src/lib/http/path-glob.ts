// Access rules' path globs, matched in time linear in the path whatever the rule: a regular
// expression of many wildcards backtracks exponentially, and one request would stall the server.

/** A step of a glob: a literal character, one character other than `/`, any run of characters
 * other than `/` (possibly empty), or any run of characters at all. */
type Step = string | { one: true } | { run: 'segment' | 'any' };

/** `*` and `{name}` stand for one non-empty path segment (or the rest of one), `**` for anything. */
export function compileGlob(glob: string): Step[] {
  const steps: Step[] = [];
  for (const part of glob.split(/(\*\*|\*|\{[^}]*\})/)) {
    if (part === '**') steps.push({ run: 'any' });
    else if (part === '*' || /^\{[^}]*\}$/.test(part)) steps.push({ one: true }, { run: 'segment' });
    else steps.push(...part);
  }
  return steps;
}

/** Whether the whole path matches: a set of positions in the glob, advanced one character at a
 * time (at most steps × characters work). */
export function matchGlob(steps: Step[], path: string): boolean {
  let states = closure(steps, new Set([0]));
  for (const c of path) {
    const next = new Set<number>();
    for (const i of states) {
      const step = steps[i];
      if (step === undefined) continue;
      if (typeof step === 'string') {
        if (step === c) next.add(i + 1);
      } else if ('one' in step) {
        if (c !== '/') next.add(i + 1);
      } else if (step.run === 'any' || c !== '/') {
        next.add(i);
      }
    }
    if (!next.size) return false;
    states = closure(steps, next);
  }
  return states.has(steps.length);
}

/** The positions reachable without reading a character: runs may be empty. */
function closure(steps: Step[], states: Set<number>): Set<number> {
  for (const i of states) {
    const step = steps[i];
    if (step !== undefined && typeof step !== 'string' && 'run' in step) states.add(i + 1);
  }
  return states;
}
