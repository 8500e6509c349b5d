// Long CPU work written as a generator that yields now and then, run either at once (tests, small
// inputs) or in slices that give the event loop back: building the ranking's index for a catalog is
// hundreds of ms of CPU, and a process that blocks that long answers nothing else meanwhile (its
// timers fire late: a healthy database's connection wait then times out as if it were down).
export type Steps = Generator<void, void, void>;

export function runNow(steps: Steps): void {
  for (let step = steps.next(); !step.done; step = steps.next());
}

/** Runs `steps`, handing the event loop back after every `sliceMs` of work. */
export async function runInSlices(steps: Steps, sliceMs = 10): Promise<void> {
  let sliceStarted = performance.now();
  for (let step = steps.next(); !step.done; step = steps.next()) {
    if (performance.now() - sliceStarted < sliceMs) continue;
    await new Promise<void>((resolve) => setImmediate(resolve));
    sliceStarted = performance.now();
  }
}
