// Breaker state machine on a hand-driven clock: opens, refuses, one probe, closes or re-opens.
import { describe, expect, it } from "vitest";
import { Breaker, type Ticket } from "./breaker.js";

function breaker(threshold = 3, halfOpenAfterMs = 1_000) {
  const clock = { now: 0 };
  return { breaker: new Breaker(threshold, halfOpenAfterMs, () => clock.now), clock };
}

const ticket = (admitted: ReturnType<Breaker["admit"]>): Ticket => {
  if (!("probe" in admitted)) throw new Error("refused");
  return admitted;
};

describe("Breaker", () => {
  it("opens after consecutive failures only; a success in between resets the count", () => {
    const { breaker: b } = breaker(3);
    b.record(ticket(b.admit()), "failure");
    b.record(ticket(b.admit()), "failure");
    b.record(ticket(b.admit()), "success");
    b.record(ticket(b.admit()), "failure");
    b.record(ticket(b.admit()), "none");
    b.record(ticket(b.admit()), "failure");
    expect(b.state).toBe("closed");
    b.record(ticket(b.admit()), "failure");
    expect(b.state).toBe("open");
    expect(b.admit()).toEqual({ refusedForMs: 1_000 });
  });

  it("lets one probe through after the delay; its success closes, its failure re-opens", () => {
    const { breaker: b, clock } = breaker(1, 1_000);
    b.record(ticket(b.admit()), "failure");
    clock.now += 999;
    expect(b.state).toBe("open");
    clock.now += 1;
    expect(b.state).toBe("half-open");
    const probe = ticket(b.admit());
    expect(probe.probe).toBe(true);
    expect("refusedForMs" in b.admit()).toBe(true);
    b.record(probe, "failure");
    expect(b.state).toBe("open");
    clock.now += 1_000;
    const second = ticket(b.admit());
    b.record(second, "success");
    expect(b.state).toBe("closed");
  });

  it("stays half-open when the probe never reached the upstream, and ignores calls from before it opened", () => {
    const { breaker: b, clock } = breaker(1, 100);
    const old = ticket(b.admit());
    b.record(ticket(b.admit()), "failure");
    b.record(old, "success");
    expect(b.state).toBe("open");
    clock.now += 100;
    b.record(ticket(b.admit()), "none");
    expect(b.state).toBe("half-open");
    expect(ticket(b.admit()).probe).toBe(true);
  });
});
