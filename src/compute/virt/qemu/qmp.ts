import { connect } from 'node:net';

// A QMP client for a guest's monitor socket, and one function per command Nubo uses.

/** An error answer from qemu: the command was understood and refused. */
export class QmpError extends Error {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    desc: string,
  ) {
    super(`QMP ${command}: ${desc}`);
    this.name = 'QmpError';
  }
}

export interface Qmp {
  /** Runs one command and returns qemu's `return` value; throws QmpError on an `error` answer. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T>;
}

interface Message {
  QMP?: unknown;
  return?: unknown;
  error?: { class: string; desc: string };
  event?: string;
}

/**
 * Connects to the monitor, reads the greeting, negotiates capabilities, runs fn and disconnects.
 * qemu serves one QMP client at a time, so no connection is kept between calls. Every answer
 * must come within timeoutMs.
 */
export async function withQmp<T>(socket: string, fn: (qmp: Qmp) => Promise<T>, timeoutMs = 5000): Promise<T> {
  const conn = connect(socket);
  conn.setEncoding('utf8');
  const waiting: { resolve: (m: Message) => void; reject: (e: Error) => void }[] = [];
  let failure: Error | undefined;
  const failAll = (err: Error) => {
    failure ??= err;
    for (const w of waiting.splice(0)) w.reject(failure);
  };
  let buffer = '';
  conn.on('data', (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (!line) continue;
      let msg: Message;
      try {
        msg = JSON.parse(line) as Message;
      } catch {
        conn.destroy();
        return failAll(new Error(`QMP ${socket}: not JSON: ${line.slice(0, 200)}`));
      }
      // Asynchronous events (RESET, STOP, SHUTDOWN…) are not answers to anything.
      if (msg.event) continue;
      waiting.shift()?.resolve(msg);
    }
  });
  conn.on('error', failAll);
  conn.on('close', () => failAll(new Error(`QMP ${socket}: connection closed`)));

  const answer = (what: string) =>
    new Promise<Message>((resolve, reject) => {
      if (failure) return reject(failure);
      const timer = setTimeout(() => {
        conn.destroy();
        failAll(new Error(`QMP ${socket}: no answer to ${what} in ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => clearTimeout(timer);
      waiting.push({ resolve: (m) => (done(), resolve(m)), reject: (e) => (done(), reject(e)) });
    });

  const qmp: Qmp = {
    async execute<R>(command: string, args?: Record<string, unknown>): Promise<R> {
      const reply = answer(command);
      conn.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n');
      const msg = await reply;
      if (msg.error) throw new QmpError(command, msg.error.class, msg.error.desc);
      return msg.return as R;
    },
  };

  try {
    await answer('the greeting');
    await qmp.execute('qmp_capabilities');
    return await fn(qmp);
  } finally {
    conn.destroy();
  }
}

/** The run state as qemu names it: running, paused, shutdown, guest-panicked, internal-error… */
export const queryStatus = async (qmp: Qmp) => (await qmp.execute<{ status: string }>('query-status')).status;

/** Pauses the vCPUs; qemu flushes the guest's disks to their files before it answers. */
export const stop = (qmp: Qmp) => qmp.execute('stop');

export const cont = (qmp: Qmp) => qmp.execute('cont');

/** Presses the ACPI power button: the guest decides whether and when it shuts down. */
export const systemPowerdown = (qmp: Qmp) => qmp.execute('system_powerdown');

/** Resets the machine, as the reset button does: no shutdown inside the guest. */
export const systemReset = (qmp: Qmp) => qmp.execute('system_reset');

/** Makes qemu exit at once, closing its disks cleanly; it may hang up before it answers. */
export const quit = (qmp: Qmp) =>
  qmp.execute('quit').catch((err: Error) => {
    if (err instanceof QmpError) throw err;
  });
