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

/**
 * `dependencies.get(id)` lists the ids that must come before `id` (ids not among `nodes`
 * are ignored). Kahn's algorithm with a min-heap gives the deterministic tie-break (orderIndices); nodes it
 * cannot order are on or behind a cycle, and Tarjan's algorithm on those names the cycles.
 */
export function topologicalOrder(
  nodes: readonly string[],
  dependencies: ReadonlyMap<string, readonly string[]>,
): TopologicalResult {
  const index = new Map<string, number>();
  const ids: string[] = [];
  for (const node of nodes) {
    if (index.has(node)) continue;
    index.set(node, ids.length);
    ids.push(node);
  }
  const deps = ids.map((id) => {
    const found: number[] = [];
    for (const dep of dependencies.get(id) ?? []) {
      const d = index.get(dep);
      if (d !== undefined) found.push(d);
    }
    return found;
  });
  const order = Array.from(orderIndices(ids, deps), (n) => ids[n] as string);
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

/**
 * topologicalOrder for nodes named by index (`ids[n]`, distinct; `dependencies[n]` the
 * indices that must come before n, repeats allowed): the same order, ties broken by id, as
 * indices. Nodes on or behind a cycle are left out (topologicalOrder names the cycles). For a
 * batch's union of 100,000s of steps, where string-keyed maps cost more than the ordering.
 */
export function orderIndices(
  ids: readonly string[],
  dependencies: readonly (readonly number[])[],
): Int32Array {
  const count = ids.length;
  const remaining = new Int32Array(count);
  const dependents: (number[] | undefined)[] = new Array<number[] | undefined>(count);
  for (let n = 0; n < count; n++) {
    const listed = dependencies[n] ?? [];
    const deps = listed.length > 1 ? [...new Set(listed)] : listed;
    remaining[n] = deps.length;
    for (const d of deps) {
      const list = dependents[d];
      if (list) list.push(n);
      else dependents[d] = [n];
    }
  }
  const before = (a: number, b: number) => compareIds(ids[a] as string, ids[b] as string) < 0;
  const heap: number[] = [];
  const push = (n: number) => {
    let i = heap.length;
    heap.push(n);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as number;
      if (!before(n, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = n;
  };
  const pop = (): number => {
    const top = heap[0] as number;
    const last = heap.pop() as number;
    if (heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = last;
      let at = i;
      if (l < heap.length && before(heap[l] as number, smallest)) {
        at = l;
        smallest = heap[l] as number;
      }
      if (r < heap.length && before(heap[r] as number, smallest)) {
        at = r;
        smallest = heap[r] as number;
      }
      if (at === i) break;
      heap[i] = smallest;
      i = at;
    }
    heap[i] = last;
    return top;
  };
  for (let n = 0; n < count; n++) if (remaining[n] === 0) push(n);
  const order = new Int32Array(count);
  let placed = 0;
  while (heap.length > 0) {
    const n = pop();
    order[placed++] = n;
    for (const next of dependents[n] ?? []) {
      const left = (remaining[next] as number) - 1;
      remaining[next] = left;
      if (left === 0) push(next);
    }
  }
  return order.subarray(0, placed);
}
