import { randomBytes, timingSafeEqual } from 'node:crypto';
import { connect } from 'node:net';
import { connect as connectTls, createServer, type TLSSocket } from 'node:tls';
import { pipeline } from 'node:stream';
import type { Logger } from '../../lib/log.ts';
import type { VirtDriver } from '../virt/driver.ts';

// A host's guest consoles for the controllers' console proxy, which cannot open this host's unix
// sockets: the proxy asks this host's agent for a ticket (a host call), connects to the relay at
// the address it gives, and sends the ticket as its first line; the relay then joins the
// connection to the guest's VNC or serial socket. A ticket is random, good once, for one guest's
// one console, and only for TICKET_TTL_MS. The connection is TLS with the host's pre-shared key,
// which only that host and the controllers hold: nobody else on the hosts' network can read a
// console, take a ticket, or pose as the relay.

const TICKET_TTL_MS = 10_000;
/** A ticket's line: 64 hex digits and a newline. */
const TICKET_LINE = 65;

export interface ConsoleTicket {
  host: string;
  port: number;
  ticket: string;
}

/** The relay's TLS: the host's name as the PSK identity and its key (hex). Forward secrecy
 * (ECDHE) with the key authenticating both ends; TLS 1.2, the last version whose PSK suites Node
 * offers. */
export interface RelayKey {
  host: string;
  key: string;
}

const tlsOptions = { ciphers: 'ECDHE-PSK-CHACHA20-POLY1305:ECDHE-PSK-AES256-CBC-SHA384', minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } as const;

export interface ConsoleRelay {
  /** A ticket for the guest's console on this host; the guest must be here. */
  issue(uuid: string, kind: 'vnc' | 'serial'): Promise<ConsoleTicket>;
  close(): Promise<void>;
}

export async function startConsoleRelay(driver: VirtDriver, address: string, own: RelayKey, log: Logger): Promise<ConsoleRelay> {
  const tickets = new Map<string, { socket: string; expires: number }>();
  const open = new Set<TLSSocket>();
  const psk = Buffer.from(own.key, 'hex');

  /** The socket a ticket opens, once; undefined for one unknown, spent or expired. */
  function spend(line: Buffer): string | undefined {
    const given = line.toString('latin1').trim();
    for (const [ticket, t] of tickets) {
      if (t.expires < Date.now()) tickets.delete(ticket);
      else if (ticket.length === given.length && timingSafeEqual(Buffer.from(ticket), Buffer.from(given))) {
        tickets.delete(ticket);
        return t.socket;
      }
    }
    return undefined;
  }

  const server = createServer({ ...tlsOptions, pskCallback: (_socket, identity) => (identity === own.host ? psk : null) }, (client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    client.setTimeout(TICKET_TTL_MS, () => client.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      if (head.length < TICKET_LINE) return;
      client.off('data', onData);
      client.pause();
      client.setTimeout(0);
      const path = spend(head.subarray(0, TICKET_LINE));
      if (!path) {
        log.info({ from: client.remoteAddress }, 'console relay: ticket refused');
        return client.destroy();
      }
      const guest = connect(path);
      guest.once('connect', () => {
        // Whatever came after the ticket is the console's already.
        if (head.length > TICKET_LINE) guest.write(head.subarray(TICKET_LINE));
        pipeline(client, guest, client, () => undefined);
        client.resume();
      });
      guest.once('error', () => client.destroy());
    };
    client.on('data', onData);
  });
  // A failed handshake (no key, another key) is the client's problem, not the relay's.
  server.on('tlsClientError', (err) => log.info({ err: err.message }, 'console relay: TLS handshake refused'));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, address, () => resolve()));
  const { port } = server.address() as { port: number };
  log.info({ address, port }, 'console relay listening');

  return {
    async issue(uuid, kind) {
      if ((await driver.info(uuid)).power === 'nostate') throw new Error(`guest ${uuid} is not on this host`);
      const ticket = randomBytes(32).toString('hex');
      tickets.set(ticket, { socket: driver.consoleSocket(uuid, kind), expires: Date.now() + TICKET_TTL_MS });
      return { host: address, port, ticket };
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The controllers' side: a connection to the guest's console through its host's relay, over TLS
 * with that host's key. */
export function reachThroughRelay(t: ConsoleTicket, host: RelayKey): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = connectTls({
      ...tlsOptions,
      host: t.host,
      port: t.port,
      pskCallback: () => ({ psk: Buffer.from(host.key, 'hex'), identity: host.host }),
      // The key is the relay's proof of who it is: there is no certificate to check.
      checkServerIdentity: () => undefined,
    });
    s.once('secureConnect', () => {
      s.off('error', reject);
      s.write(`${t.ticket}\n`);
      resolve(s);
    });
    s.once('error', reject);
  });
}
