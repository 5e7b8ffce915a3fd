import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';

/** What one command printed, and its exit status. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

interface Job {
  argv: string[];
  env: Record<string, string>;
  timeoutMs: number;
  resolve(r: CliResult): void;
}

const worker = new URL('./openstack-worker.py', import.meta.url).pathname;

/** The interpreter of the `openstack` command on PATH (its #! line): the one its modules are
 * installed for, which another python3 earlier on PATH may not be. */
function interpreter(): string {
  const command = (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'openstack')).find((p) => existsSync(p));
  if (!command) throw new Error('the openstack command is not on PATH (apt-get install python3-openstackclient)');
  return /^#!\s*(\S+)/.exec(readFileSync(command, 'utf8'))?.[1] ?? 'python3';
}
// Two interpreters: enough for the commands a test runs side by side, and each one holds the
// client's plugins (about 100 MB).
const SIZE = 2;

/**
 * Python interpreters that each run openstackclient's main() for one command after another
 * (openstack-worker.py), so that a test pays the client's start once rather than per command.
 * A command that outlasts its time limit has its interpreter killed, as a process of its own
 * would be, and the next command gets a new one.
 */
class OpenstackPool {
  private idle: Worker[] = [];
  private count = 0;
  private queue: Job[] = [];

  run(argv: string[], env: Record<string, string>, timeoutMs: number): Promise<CliResult> {
    return new Promise((resolve) => {
      this.queue.push({ argv, env, timeoutMs, resolve });
      this.next();
    });
  }

  private next(): void {
    if (!this.queue.length) return;
    let w = this.idle.pop();
    if (!w) {
      if (this.count >= SIZE) return;
      this.count++;
      w = new Worker(() => this.count--);
    }
    const job = this.queue.shift()!;
    w.run(job).then((alive) => {
      if (alive) this.idle.push(w);
      this.next();
    });
  }
}

class Worker {
  private child: ChildProcess;
  private answers: ((line: string) => void)[] = [];

  constructor(onExit: () => void) {
    this.child = spawn(interpreter(), [worker], { stdio: ['pipe', 'pipe', 'inherit'] });
    // A test process must be able to end while interpreters wait for work.
    this.child.unref();
    (this.child.stdin as unknown as { unref(): void }).unref();
    (this.child.stdout as unknown as { unref(): void }).unref();
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.answers.shift()?.(line));
    this.child.once('exit', () => {
      onExit();
      for (const answer of this.answers.splice(0)) answer(JSON.stringify({ code: 1, stdout: '', stderr: 'the openstack client exited' }));
    });
  }

  /** Runs the job; false when the interpreter had to be killed. */
  async run(job: Job): Promise<boolean> {
    const { timeoutMs } = job;
    const line = new Promise<string>((resolve) => this.answers.push(resolve));
    this.child.stdin!.write(`${JSON.stringify({ argv: job.argv, env: job.env })}\n`);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const answer = await Promise.race([line, timedOut]);
    clearTimeout(timer);
    if (answer === 'timeout') {
      this.child.kill('SIGKILL');
      job.resolve({ code: 1, stdout: '', stderr: `openstack ${job.argv.join(' ')} timed out after ${timeoutMs / 1000} s` });
      return false;
    }
    job.resolve(JSON.parse(answer) as CliResult);
    return true;
  }
}

export const openstackPool = new OpenstackPool();
