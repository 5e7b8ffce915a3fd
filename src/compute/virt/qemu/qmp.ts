import { connect } from 'node:net';

/**
 * Runs QMP commands on a guest's monitor socket: one connection per call, the capabilities
 * handshake, then each command in turn; asynchronous events are skipped. Rejects on a QMP error
 * or when the monitor does not answer within timeoutMs.
 */
export function qmp(socket: string, commands: { execute: string; arguments?: Record<string, unknown> }[], timeoutMs = 5000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    const results: unknown[] = [];
    const queue = [{ execute: 'qmp_capabilities' }, ...commands];
    let greeted = false;
    let buffer = '';
    const fail = (err: Error) => {
      conn.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`QMP ${socket}: no answer in ${timeoutMs} ms`)), timeoutMs);
    const send = () => conn.write(JSON.stringify(queue[0]) + '\n');
    conn.on('error', (err) => {
      clearTimeout(timer);
      fail(err);
    });
    conn.on('data', (chunk) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as { QMP?: unknown; return?: unknown; error?: { desc: string }; event?: string };
        if (msg.event) continue;
        if (msg.QMP && !greeted) {
          greeted = true;
          send();
          continue;
        }
        if (msg.error) {
          clearTimeout(timer);
          return fail(new Error(`QMP ${queue[0]!.execute}: ${msg.error.desc}`));
        }
        const done = queue.shift()!;
        if (done.execute !== 'qmp_capabilities') results.push(msg.return);
        if (queue.length) send();
        else {
          clearTimeout(timer);
          conn.end();
          resolve(results);
        }
      }
    });
  });
}

/** The guest's run state as QMP names it: running, paused, shutdown, guest-panicked, … */
export async function queryStatus(socket: string): Promise<string> {
  const [r] = await qmp(socket, [{ execute: 'query-status' }]);
  return (r as { status: string }).status;
}
