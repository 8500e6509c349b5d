// Open-addressing map from 32-bit feature hash to a number, on typed arrays: Map would box most keys (V8's
// small integers stop at 2^30) and allocate per entry, which made it the embedder's main cost.

/** Keys are expected to be well-mixed hashes already, so the low bits pick the slot directly. */
export class FeatureTable {
  private keys: Uint32Array;
  private vals: Float64Array;
  private tags: Uint8Array;
  // A slot is occupied iff its stamp equals the current generation, so clear() is O(1).
  private stamps: Uint32Array;
  private generation = 1;
  private mask: number;
  /** Occupied slots in insertion order, for iteration. */
  private order: Uint32Array;
  size = 0;

  constructor(expected = 256) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.keys = new Uint32Array(capacity);
    this.vals = new Float64Array(capacity);
    this.tags = new Uint8Array(capacity);
    this.stamps = new Uint32Array(capacity);
    this.order = new Uint32Array(capacity >>> 1);
  }

  clear(): void {
    this.size = 0;
    this.generation++;
    if (this.generation === 0xffffffff) {
      this.stamps.fill(0);
      this.generation = 1;
    }
  }

  private slotOf(key: number): number {
    let slot = key & this.mask;
    while (this.stamps[slot] === this.generation && this.keys[slot] !== key) slot = (slot + 1) & this.mask;
    return slot;
  }

  /** Adds `amount` to the value under `key`; a new key starts at 0 and keeps `tag`. */
  add(key: number, amount: number, tag = 0): void {
    const slot = this.slotOf(key);
    if (this.stamps[slot] === this.generation) {
      this.vals[slot] = (this.vals[slot] as number) + amount;
      return;
    }
    this.stamps[slot] = this.generation;
    this.keys[slot] = key;
    this.vals[slot] = amount;
    this.tags[slot] = tag;
    this.order[this.size++] = slot;
    // Keep the load at or under one half so probe runs stay short.
    if (this.size === this.order.length) this.grow();
  }

  get(key: number, fallback: number): number {
    const slot = this.slotOf(key);
    return this.stamps[slot] === this.generation ? (this.vals[slot] as number) : fallback;
  }

  /** Calls `visit` for each entry in insertion order. */
  forEach(visit: (key: number, value: number, tag: number) => void): void {
    for (let i = 0; i < this.size; i++) {
      const slot = this.order[i] as number;
      visit(this.keys[slot] as number, this.vals[slot] as number, this.tags[slot] as number);
    }
  }

  private grow(): void {
    const { keys, vals, tags, order, size } = this;
    const capacity = (this.mask + 1) * 2;
    this.mask = capacity - 1;
    this.keys = new Uint32Array(capacity);
    this.vals = new Float64Array(capacity);
    this.tags = new Uint8Array(capacity);
    this.stamps = new Uint32Array(capacity);
    this.order = new Uint32Array(capacity >>> 1);
    this.generation = 1;
    this.size = 0;
    for (let i = 0; i < size; i++) {
      const slot = order[i] as number;
      this.add(keys[slot] as number, vals[slot] as number, tags[slot] as number);
    }
  }
}
