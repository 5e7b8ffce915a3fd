import { eq, inArray } from 'drizzle-orm';
import type { Db } from '../lib/store/db.ts';
import { projects } from './tables.ts';

/** Keystone's default [DEFAULT] max_project_tree_depth: a domain's top projects are level 1. */
export const MAX_TREE_DEPTH = 5;

export interface TreeNode {
  id: string;
  domainId: string;
  parentId: string | null;
  enabled: boolean;
}

const node = { id: projects.id, domainId: projects.domainId, parentId: projects.parentId, enabled: projects.enabled };

/** The projects above one, nearest first (the project itself not included). */
export async function ancestorsOf(db: Db, projectId: string): Promise<TreeNode[]> {
  const up: TreeNode[] = [];
  let [current] = await db.select(node).from(projects).where(eq(projects.id, projectId));
  // The depth limit bounds the walk; the guard also stops on a cycle no API can make.
  while (current?.parentId && up.length <= MAX_TREE_DEPTH) {
    [current] = await db.select(node).from(projects).where(eq(projects.id, current.parentId));
    if (current) up.push(current);
  }
  return up;
}

/** The projects below one, level by level (the project itself not included). */
export async function subtreeOf(db: Db, projectId: string): Promise<TreeNode[]> {
  const down: TreeNode[] = [];
  let level = [projectId];
  while (level.length && down.length < 100_000) {
    const children = await db.select(node).from(projects).where(inArray(projects.parentId, level));
    down.push(...children);
    level = children.map((c) => c.id);
  }
  return down;
}

/** Every project as a tree node, for expanding many grants at once. */
export const allNodes = (db: Db): Promise<TreeNode[]> => db.select(node).from(projects);

/** The ids below `rootId` in a set of nodes (the root itself not included). */
export function below(nodes: TreeNode[], rootId: string): string[] {
  const children = new Map<string, string[]>();
  for (const n of nodes) if (n.parentId) children.set(n.parentId, [...(children.get(n.parentId) ?? []), n.id]);
  const out: string[] = [];
  const queue = [...(children.get(rootId) ?? [])];
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    out.push(id);
    queue.push(...(children.get(id) ?? []));
  }
  return out;
}
