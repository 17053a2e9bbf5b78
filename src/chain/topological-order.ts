/**
 * Orders a dependency graph producers-first and finds its cycles. Both are iterative: a
 * 10,000-step linear chain would overflow the call stack with recursion.
 */

export interface TopologicalResult {
  /** Ids in dependency order; ties broken by id so the order is the same on every run. */
  order: string[];
  /** Each cycle's ids (a strongly connected component, or a node depending on itself), sorted. */
  cycles: string[][];
}

/** Compares by UTF-16 code units, never by locale, so the order does not depend on the machine. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

class MinHeap {
  private readonly items: string[] = [];

  get size(): number {
    return this.items.length;
  }

  push(item: string): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as string;
      if (compareIds(p, item) <= 0) break;
      items[i] = p;
      i = parent;
    }
    items[i] = item;
  }

  pop(): string | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      let smallestValue = last;
      if (l < items.length && compareIds(items[l] as string, smallestValue) < 0) {
        smallest = l;
        smallestValue = items[l] as string;
      }
      if (r < items.length && compareIds(items[r] as string, smallestValue) < 0) {
        smallest = r;
        smallestValue = items[r] as string;
      }
      if (smallest === i) break;
      items[i] = smallestValue;
      i = smallest;
    }
    items[i] = last;
    return top;
  }
}

/**
 * `dependencies.get(id)` lists the ids that must come before `id` (ids not among `nodes`
 * are ignored). Kahn's algorithm with a min-heap gives the deterministic tie-break; nodes it
 * cannot order are on or behind a cycle, and Tarjan's algorithm on those names the cycles.
 */
export function topologicalOrder(
  nodes: readonly string[],
  dependencies: ReadonlyMap<string, readonly string[]>,
): TopologicalResult {
  // By index, not by id: a batch orders 100,000s of steps, and a Set per node costs more than
  // the ordering itself.
  const index = new Map<string, number>();
  const ids: string[] = [];
  for (const node of nodes) {
    if (index.has(node)) continue;
    index.set(node, ids.length);
    ids.push(node);
  }
  const remaining = new Int32Array(ids.length);
  const dependents: (number[] | undefined)[] = new Array<number[] | undefined>(ids.length);
  for (let n = 0; n < ids.length; n++) {
    const listed = dependencies.get(ids[n] as string) ?? [];
    // Each distinct dependency counts once: a step may consume one artifact twice.
    const deps = listed.length > 1 ? [...new Set(listed)] : listed;
    for (const dep of deps) {
      const d = index.get(dep);
      if (d === undefined) continue;
      remaining[n] = (remaining[n] ?? 0) + 1;
      const list = dependents[d];
      if (list) list.push(n);
      else dependents[d] = [n];
    }
  }
  const ready = new MinHeap();
  for (let n = 0; n < ids.length; n++) if (remaining[n] === 0) ready.push(ids[n] as string);
  const order: string[] = [];
  while (ready.size > 0) {
    const node = ready.pop() as string;
    order.push(node);
    for (const next of dependents[index.get(node) as number] ?? []) {
      const left = (remaining[next] ?? 0) - 1;
      remaining[next] = left;
      if (left === 0) ready.push(ids[next] as string);
    }
  }
  if (order.length === ids.length) return { order, cycles: [] };
  const ordered = new Set(order);
  const stuck = ids.filter((n) => !ordered.has(n)).sort(compareIds);
  return { order, cycles: cyclesAmong(stuck, dependencies) };
}

/** Tarjan's strongly connected components, iteratively, keeping only real cycles. */
function cyclesAmong(
  nodes: readonly string[],
  dependencies: ReadonlyMap<string, readonly string[]>,
): string[][] {
  const inSet = new Set(nodes);
  const edgesOf = (n: string) =>
    [...new Set(dependencies.get(n) ?? [])].filter((d) => inSet.has(d)).sort(compareIds);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let counter = 0;
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: { node: string; edges: string[]; next: number }[] = [];
    const enter = (node: string) => {
      index.set(node, counter);
      low.set(node, counter);
      counter++;
      stack.push(node);
      onStack.add(node);
      work.push({ node, edges: edgesOf(node), next: 0 });
    };
    enter(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as (typeof work)[number];
      if (frame.next < frame.edges.length) {
        const to = frame.edges[frame.next++] as string;
        if (!index.has(to)) enter(to);
        else if (onStack.has(to)) low.set(frame.node, Math.min(low.get(frame.node) ?? 0, index.get(to) ?? 0));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node) ?? 0, low.get(frame.node) ?? 0));
      if (low.get(frame.node) !== index.get(frame.node)) continue;
      const component: string[] = [];
      for (;;) {
        const member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
        if (member === frame.node) break;
      }
      const selfLoop = component.length === 1 && frame.edges.includes(frame.node);
      if (component.length > 1 || selfLoop) cycles.push(component.sort(compareIds));
    }
  }
  return cycles.sort((a, b) => compareIds(a[0] ?? "", b[0] ?? ""));
}
