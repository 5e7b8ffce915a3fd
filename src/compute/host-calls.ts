import { and, eq, isNull } from 'drizzle-orm';
import { conflict } from '../lib/errors.ts';
import { notify, type Store } from '../lib/store/db.ts';
import type { Logger } from '../lib/log.ts';
import type { Server } from './servers.ts';
import { computeServiceOf, isUp } from './services.ts';
import { hostCalls } from './tables.ts';
import type { VirtDriver } from './virt/driver.ts';
import type { ConsoleRelay, ConsoleTicket } from './agent/console-relay.ts';

// What the API asks the agent of a server's host and waits for (a console's output, an NMI, a
// ticket to one of its consoles through the host's relay), through the database both reach, as
// Nova calls its compute hosts over its message queue: the question is a row, its host's agent is
// woken on HOST_CALLS_CHANNEL and writes its answer in the row, the API is woken on
// HOST_CALLS_DONE_CHANNEL, reads the answer and deletes the row.

export const HOST_CALLS_CHANNEL = 'compute_host_calls';
export const HOST_CALLS_DONE_CHANNEL = 'compute_host_calls_done';

/** How long the API waits for a host's answer, as Nova's rpc_response_timeout does (60 s there). */
const ANSWER_TIMEOUT_MS = 10_000;

export interface HostCaller {
  consoleLog(server: Server, lines?: number): Promise<string>;
  injectNmi(server: Server): Promise<void>;
  openConsole(server: Server, kind: 'vnc' | 'serial'): Promise<ConsoleTicket>;
  close(): Promise<void>;
}

type Call = { call: 'consoleLog'; lines?: number } | { call: 'injectNmi' | 'openVncConsole' | 'openSerialConsole' };

export async function startHostCaller(store: Store, timeoutMs = ANSWER_TIMEOUT_MS): Promise<HostCaller> {
  const { db } = store;
  const waiting = new Map<number, () => void>();
  const unlisten = await store.listen(HOST_CALLS_DONE_CHANNEL, (payload) => waiting.get(Number(payload))?.());

  async function ask(server: Server, call: Call): Promise<string> {
    const host = server.host!;
    const service = await computeServiceOf(db, host);
    if (!service || !isUp(service)) throw conflict(`Instance ${server.id} cannot be reached: its host ${host} is down.`);
    const id = await store.tx(async (tx) => {
      const [row] = await tx
        .insert(hostCalls)
        .values({ host, serverId: server.id, call: call.call, lines: call.call === 'consoleLog' ? (call.lines ?? null) : null })
        .returning({ id: hostCalls.id });
      await notify(tx, HOST_CALLS_CHANNEL, host);
      return row!.id;
    });
    const read = async () => (await db.select().from(hostCalls).where(eq(hostCalls.id, id)))[0];
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(conflict(`Instance ${server.id} cannot be reached: its host ${host} did not answer within ${timeoutMs / 1000} s.`));
        }, timeoutMs);
        waiting.set(id, () => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve();
        });
        // Answered before the wait began.
        read().then((r) => r?.answeredAt && waiting.get(id)?.(), reject);
      });
      const answer = await read();
      if (answer?.error) throw conflict(answer.error);
      return answer?.output ?? '';
    } finally {
      await db.delete(hostCalls).where(eq(hostCalls.id, id));
    }
  }

  return {
    consoleLog: (server, lines) => ask(server, { call: 'consoleLog', lines }),
    injectNmi: async (server) => void (await ask(server, { call: 'injectNmi' })),
    openConsole: async (server, kind) => JSON.parse(await ask(server, { call: kind === 'vnc' ? 'openVncConsole' : 'openSerialConsole' })) as ConsoleTicket,
    close: unlisten,
  };
}

/** A host's side: answers the calls to it with its driver and its console relay (a host without
 * one refuses console tickets), one at a time, as they come. */
export async function answerHostCalls(
  store: Store,
  driver: VirtDriver,
  relay: ConsoleRelay | undefined,
  host: string,
  log: Logger,
): Promise<() => Promise<void>> {
  const { db } = store;
  let queue: Promise<void> = Promise.resolve();
  async function answerAll(): Promise<void> {
    const open = await db
      .select()
      .from(hostCalls)
      .where(and(eq(hostCalls.host, host), isNull(hostCalls.answeredAt)));
    for (const c of open) {
      let output: string | null = null;
      let error: string | null = null;
      try {
        if (c.call === 'consoleLog') output = await driver.consoleLog(c.serverId, c.lines ?? undefined);
        else if (c.call === 'injectNmi') await driver.injectNmi(c.serverId);
        else if (!relay) throw new Error(`host ${host} has no console relay (host_ip or console_relay_address)`);
        else output = JSON.stringify(await relay.issue(c.serverId, c.call === 'openVncConsole' ? 'vnc' : 'serial'));
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
      await db.update(hostCalls).set({ output, error, answeredAt: new Date() }).where(eq(hostCalls.id, c.id));
      await notify(db, HOST_CALLS_DONE_CHANNEL, String(c.id));
    }
  }
  return store.listen(HOST_CALLS_CHANNEL, (payload) => {
    if (payload !== host) return;
    queue = queue.then(answerAll).catch((err: unknown) => log.warn({ err }, 'answering host calls failed'));
  });
}
