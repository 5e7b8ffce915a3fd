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

/** A non-maskable interrupt to every vCPU. */
export const injectNmi = (qmp: Qmp) => qmp.execute('inject-nmi');

/** Makes qemu exit at once, closing its disks cleanly; it may hang up before it answers. */
export const quit = (qmp: Qmp) =>
  qmp.execute('quit').catch((err: Error) => {
    if (err instanceof QmpError) throw err;
  });

/** Opens a block device node from a blockdev-add description (qemu's BlockdevOptions). */
export const blockdevAdd = (qmp: Qmp, options: Record<string, unknown>) => qmp.execute('blockdev-add', options);

/** Closes a node that no device uses any more. */
export const blockdevDel = (qmp: Qmp, nodeName: string) => qmp.execute('blockdev-del', { 'node-name': nodeName });

interface BlockNode {
  'node-name': string;
  image: { 'virtual-size': number };
}

/** The names of the block nodes qemu holds open. */
export const blockNodeNames = async (qmp: Qmp) => (await qmp.execute<BlockNode[]>('query-named-block-nodes', { flat: true })).map((n) => n['node-name']);

/** The virtual size of each block node qemu holds open, by node name. */
export const blockNodeSizes = async (qmp: Qmp) =>
  new Map((await qmp.execute<BlockNode[]>('query-named-block-nodes', { flat: true })).map((n) => [n['node-name'], n.image['virtual-size']]));

/** Plugs a device (a PCI hot-plug on a running machine). */
export const deviceAdd = (qmp: Qmp, props: Record<string, unknown>) => qmp.execute('device_add', props);

/**
 * Asks the guest to let a device go: on a PCI slot the guest's OS must consent (ACPI eject), and
 * qemu removes the device only then. Asking again while a request is pending is not an error.
 */
export const deviceDel = (qmp: Qmp, id: string) =>
  qmp.execute('device_del', { id }).catch((err: Error) => {
    if (!(err instanceof QmpError && /in the process of unplug|already/i.test(err.message))) throw err;
  });

/** The ids of the devices plugged with an id (-device id=… or device_add id=…). */
export const deviceIds = async (qmp: Qmp) =>
  (await qmp.execute<{ name: string; type: string }[]>('qom-list', { path: '/machine/peripheral' })).flatMap((p) =>
    p.type.startsWith('child<') ? [p.name] : [],
  );

/** Grows a node to bytes: qemu grows the file (or image) and tells the guest the new capacity. */
export const blockResize = (qmp: Qmp, nodeName: string, bytes: number) => qmp.execute('block_resize', { 'node-name': nodeName, size: bytes });

/** Creates a secret object holding base64 data (a cephx key) that block nodes name by id. */
export const secretAdd = (qmp: Qmp, id: string, base64: string) => qmp.execute('object-add', { 'qom-type': 'secret', id, data: base64, format: 'base64' });

/** Removes an object (a secret no node uses any more); one that is not there is no error. */
export const objectDel = (qmp: Qmp, id: string) =>
  qmp.execute('object-del', { id }).catch((err: Error) => {
    if (!(err instanceof QmpError && /not found/i.test(err.message))) throw err;
  });

/** The ids of the user-created objects (-object or object-add). */
export const objectIds = async (qmp: Qmp) =>
  (await qmp.execute<{ name: string; type: string }[]>('qom-list', { path: '/objects' })).flatMap((p) => (p.type.startsWith('child<') ? [p.name] : []));

/** Opens a network backend (a tap by name, for a hot-plugged NIC). */
export const netdevAdd = (qmp: Qmp, options: Record<string, unknown>) => qmp.execute('netdev_add', options);

/** Closes a network backend no device uses any more; one that is not there is no error. */
export const netdevDel = (qmp: Qmp, id: string) =>
  qmp.execute('netdev_del', { id }).catch((err: Error) => {
    if (!(err instanceof QmpError && /not found/i.test(err.message))) throw err;
  });

/** The children of a QOM path, with their types (child<virtio-net-pci>, link<…>, string…). */
export const qomChildren = (qmp: Qmp, path: string) => qmp.execute<{ name: string; type: string }[]>('qom-list', { path });

/** One property of a QOM object (a device's mac or netdev). */
export const qomGet = (qmp: Qmp, path: string, property: string) => qmp.execute<unknown>('qom-get', { path, property });
