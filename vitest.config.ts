// Test runner config: real MariaDB/Redis tests need generous hook timeouts; files run in parallel forks.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "**/src/**/*.test.ts",
      "**/test/**/*.test.ts",
      "load-tests/k6/**/*.test.ts",
      "scripts/**/*.test.ts",
      "load-tests/deploy/**/*.test.ts",
    ],
    exclude: ["**/node_modules/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
