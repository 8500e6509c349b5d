// Shared by the benchmark entry points: cleanups that run once on success, error or a signal, and timing helpers.

/** Cleanups run newest first, once, on success, error or a signal alike. */
export const cleanups: (() => Promise<void>)[] = [];
let cleaning: Promise<void> | undefined;

export function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const step of cleanups.reverse())
      await step().catch((error: Error) => console.error(`cleanup failed: ${error.message}`));
  })();
  return cleaning;
}

process.once("SIGINT", () => void cleanUp().finally(() => process.exit(130)));
process.once("SIGTERM", () => void cleanUp().finally(() => process.exit(143)));

export const logger = (tag: string) => (message: string) => console.error(`[${tag}] ${message}`);
export const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

/** Runs a benchmark's main, reports a failure through the exit code, and always cleans up. */
export async function runBench(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    process.exitCode = 1;
    console.error(error);
  } finally {
    await cleanUp();
  }
}
