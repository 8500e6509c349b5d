// WaitingList: priority order, FIFO within a priority, early leavers, which waiter a full line sheds.
import { describe, expect, it } from "vitest";
import type { Priority } from "./options.js";
import { WaitingList } from "./waiting-list.js";

const waiter = (priority: Priority, label: string) => ({ priority, label });

describe("WaitingList", () => {
  it("serves high before normal before low, first come first served within a priority", () => {
    const list = new WaitingList<ReturnType<typeof waiter>>();
    for (const item of [
      waiter("low", "l1"),
      waiter("normal", "n1"),
      waiter("high", "h1"),
      waiter("normal", "n2"),
    ]) {
      list.push(item);
    }
    expect(list.counts()).toEqual({ high: 1, normal: 2, low: 1 });
    const order: string[] = [];
    for (let head = list.peek(); head; head = list.peek()) {
      order.push(head.label);
      list.remove(head);
    }
    expect(order).toEqual(["h1", "n1", "n2", "l1"]);
    expect(list.size).toBe(0);
  });

  it("lets a waiter leave from the middle, once", () => {
    const list = new WaitingList<ReturnType<typeof waiter>>();
    const [a, b, c] = [waiter("normal", "a"), waiter("normal", "b"), waiter("normal", "c")];
    list.push(a);
    list.push(b);
    list.push(c);
    expect(list.remove(b)).toBe(true);
    expect(list.remove(b)).toBe(false);
    expect(list.peek()).toBe(a);
    expect(list.size).toBe(2);
  });

  it("sheds the newest waiter of the lowest priority below the newcomer, never an equal or higher one", () => {
    const list = new WaitingList<ReturnType<typeof waiter>>();
    const [n1, l1, l2] = [waiter("normal", "n1"), waiter("low", "l1"), waiter("low", "l2")];
    list.push(n1);
    list.push(l1);
    list.push(l2);
    expect(list.newestBelow("high")).toBe(l2);
    expect(list.newestBelow("normal")).toBe(l2);
    expect(list.newestBelow("low")).toBeUndefined();
    list.remove(l1);
    list.remove(l2);
    expect(list.newestBelow("normal")).toBeUndefined();
    expect(list.newestBelow("high")).toBe(n1);
  });
});
