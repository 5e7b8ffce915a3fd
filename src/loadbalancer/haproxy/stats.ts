import { createConnection } from 'node:net';

// HAProxy's runtime API on its stats socket: `show stat` as CSV, read back into the records'
// operating status and counters.

export interface StatRow {
  /** The section: a frontend (a listener's id) or a backend (pool:listener). */
  pxname: string;
  /** FRONTEND, BACKEND, or a server's name (a member's id). */
  svname: string;
  /** UP, DOWN, OPEN, MAINT, "no check", "UP 1/3"… */
  status: string;
  scur: number;
  stot: number;
  bin: number;
  bout: number;
  ereq: number;
}

/** Sends one command to the socket and returns everything HAProxy answers before closing it. */
export function command(socket: string, cmd: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(socket);
    let text = '';
    const timer = setTimeout(() => conn.destroy(new Error(`HAProxy's socket ${socket} did not answer`)), timeoutMs);
    conn.on('connect', () => conn.write(`${cmd}\n`));
    conn.on('data', (d) => (text += d.toString()));
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    conn.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

export function parseStats(csv: string): StatRow[] {
  const lines = csv.split('\n').filter((l) => l.trim());
  const header = lines.shift()?.replace(/^# /, '').split(',') ?? [];
  const col = (name: string) => header.indexOf(name);
  const num = (v: string | undefined) => Number(v) || 0;
  return lines.map((line) => {
    const f = line.split(',');
    return {
      pxname: f[col('pxname')]!,
      svname: f[col('svname')]!,
      status: f[col('status')] ?? '',
      scur: num(f[col('scur')]),
      stot: num(f[col('stot')]),
      bin: num(f[col('bin')]),
      bout: num(f[col('bout')]),
      ereq: num(f[col('ereq')]),
    };
  });
}

export const readStats = async (socket: string) => parseStats(await command(socket, 'show stat'));
