// Per-process waiting callers: high before normal before low, FIFO within a priority (insertion-ordered Sets,
// so a caller that leaves early is removed in O(1)).
import { PRIORITIES, type Priority } from "./options.js";

export class WaitingList<T extends { priority: Priority }> {
  readonly #byPriority: Record<Priority, Set<T>> = { high: new Set(), normal: new Set(), low: new Set() };

  get size(): number {
    return this.#byPriority.high.size + this.#byPriority.normal.size + this.#byPriority.low.size;
  }

  counts(): Record<Priority, number> {
    return {
      high: this.#byPriority.high.size,
      normal: this.#byPriority.normal.size,
      low: this.#byPriority.low.size,
    };
  }

  push(item: T): void {
    this.#byPriority[item.priority].add(item);
  }

  /** The next to serve, left in place. */
  peek(): T | undefined {
    for (const priority of PRIORITIES) {
      for (const item of this.#byPriority[priority]) return item;
    }
    return undefined;
  }

  /** False when the item had already left. */
  remove(item: T): boolean {
    return this.#byPriority[item.priority].delete(item);
  }

  /** The newest waiter of the lowest priority strictly below `priority`: the one to shed for it. */
  newestBelow(priority: Priority): T | undefined {
    const rank = PRIORITIES.indexOf(priority);
    for (const lower of [...PRIORITIES].reverse()) {
      if (PRIORITIES.indexOf(lower) <= rank) return undefined;
      let newest: T | undefined;
      for (const item of this.#byPriority[lower]) newest = item;
      if (newest) return newest;
    }
    return undefined;
  }
}
