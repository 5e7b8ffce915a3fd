import { Type, type TArray, type TObject } from 'typebox';
import type { FastifyReply } from 'fastify';

/** A create body as Neutron takes it: one resource under its name, or several under the
 * collection's (bulk create, all made or none). Each form is closed: a body with both keys would
 * pass as the one and be read as the other, unvalidated. */
export const createBody = <K extends string, P extends string, T extends TObject>(key: K, collection: P, item: T) =>
  Type.Union([
    Type.Object({ [key]: item } as { [k in K]: T }, { additionalProperties: false }),
    Type.Object({ [collection]: Type.Array(item, { minItems: 1 }) } as { [k in P]: TArray<T> }, { additionalProperties: false }),
  ]);

/** The items of a create body, one or many. */
export function itemsOf<T>(body: object, key: string, collection: string): { items: T[]; bulk: boolean } {
  const b = body as Record<string, unknown>;
  return collection in b ? { items: b[collection] as T[], bulk: true } : { items: [b[key] as T], bulk: false };
}

/** 201 with the made resources, under the name they were asked by. */
export function created(reply: FastifyReply, key: string, collection: string, bulk: boolean, views: unknown[]) {
  return reply.status(201).send(bulk ? { [collection]: views } : { [key]: views[0] });
}

/** Runs the creates one after another (inside one transaction, so that one failure undoes all). */
export async function eachInOrder<T, R>(items: T[], make: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) out.push(await make(item));
  return out;
}
