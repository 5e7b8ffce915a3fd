import type { Store } from '../store/db.ts';
import type { QueueDepth } from './queue.ts';

// The reconcile controllers running in this process, by the store they serve, so that what
// exposes a store's health (Prometheus) can tell how much work each has. Kept per store, not per
// process: a test runs several clouds in one process.

const byStore = new WeakMap<Store, Set<{ name: string; depth: () => QueueDepth }>>();

/** Adds a controller; the function returned removes it. */
export function registerQueue(store: Store, name: string, depth: () => QueueDepth): () => void {
  let set = byStore.get(store);
  if (!set) byStore.set(store, (set = new Set()));
  const entry = { name, depth };
  set.add(entry);
  return () => set.delete(entry);
}

/** Each controller of the store's, with its work queue's depth now, by name. */
export function queueDepths(store: Store): { name: string; depth: QueueDepth }[] {
  return [...(byStore.get(store) ?? [])].map((e) => ({ name: e.name, depth: e.depth() })).sort((a, b) => a.name.localeCompare(b.name));
}
