// MemoryBudget on a hand-driven clock: concurrency with expiring leases, rpm and tpm windows.
import { describe, expect, it } from "vitest";
import { MemoryBudget } from "./memory-budget.js";

function budget(limits: Partial<ConstructorParameters<typeof MemoryBudget>[0]> = {}) {
  const clock = { now: 1_000_000 };
  const memory = new MemoryBudget(
    { maxConcurrent: 2, rpm: 0, tpm: 0, windowMs: 60_000, leaseMs: 1_000, ...limits },
    () => clock.now,
  );
  return { memory, clock };
}

describe("MemoryBudget", () => {
  it("holds maxConcurrent leases; a release or an expiry frees a slot", () => {
    const { memory, clock } = budget();
    expect(memory.tryAcquire("a", 0).ok).toBe(true);
    expect(memory.tryAcquire("b", 0).ok).toBe(true);
    expect(memory.tryAcquire("c", 0)).toEqual({
      ok: false,
      waitMs: 1_000,
      blockedBy: "concurrency",
      active: 2,
    });
    memory.release("a");
    expect(memory.tryAcquire("c", 0).ok).toBe(true);
    clock.now += 600;
    expect(memory.renew("b")).toBe(true);
    clock.now += 600;
    // "c" was not renewed and expired; "b" was.
    expect(memory.active).toBe(1);
    expect(memory.renew("c")).toBe(false);
  });

  it("counts requests in the rpm window and says when the oldest leaves it", () => {
    const { memory, clock } = budget({ maxConcurrent: 100, rpm: 3, windowMs: 1_000 });
    for (const id of ["a", "b", "c"]) {
      expect(memory.tryAcquire(id, 0).ok).toBe(true);
      memory.release(id);
      clock.now += 100;
    }
    expect(memory.tryAcquire("d", 0)).toMatchObject({ ok: false, waitMs: 700, blockedBy: "rpm" });
    clock.now += 700;
    expect(memory.tryAcquire("d", 0).ok).toBe(true);
  });

  it("sums tokens in the window, and lets an oversized call through once the window is empty", () => {
    const { memory, clock } = budget({ maxConcurrent: 100, tpm: 100, windowMs: 1_000 });
    expect(memory.tryAcquire("a", 60).ok).toBe(true);
    clock.now += 200;
    expect(memory.tryAcquire("b", 30).ok).toBe(true);
    expect(memory.tryAcquire("c", 20)).toMatchObject({ ok: false, waitMs: 800, blockedBy: "tpm" });
    expect(memory.tryAcquire("big", 500)).toMatchObject({ ok: false, waitMs: 1_000, blockedBy: "tpm" });
    clock.now += 1_000;
    expect(memory.tryAcquire("big", 500).ok).toBe(true);
  });
});
