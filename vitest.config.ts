import { defineConfig } from "vitest/config";

// End-to-end tests spawn real bubblewrap sandboxes; on 2 cores they need generous
// timeouts and limited file parallelism so they do not starve each other.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    fileParallelism: true,
    reporters: ["default", "./test/helpers/summary-reporter.ts"],
  },
});
