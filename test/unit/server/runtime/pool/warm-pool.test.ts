import { describe, expect, it } from "vitest";
import { DevServerError } from "../../../../../src/errors/index.js";
import { startDevServer } from "../../../../../src/server/index.js";
import { isValidPoolSize, MAX_POOL_SIZE } from "../../../../../src/server/runtime/pool/warm-pool.js";
import { tempDir } from "../../../../helpers/temp-dir.js";

describe("pool size", () => {
  it("accepts whole numbers from 0 to the maximum only", () => {
    for (const ok of [0, 1, 2, MAX_POOL_SIZE]) expect(isValidPoolSize(ok)).toBe(true);
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, MAX_POOL_SIZE + 1]) expect(isValidPoolSize(bad)).toBe(false);
  });

  it("is refused by startDevServer with the fix named, before anything listens", async () => {
    await using dir = await tempDir("msbv-pool-size-");
    for (const poolSize of [-1, 2.5, 1000]) {
      const error = await startDevServer({ port: 0, dev: true, projectDir: dir.path, poolSize, logger: () => {} }).then(
        async (server) => {
          await server.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DevServerError);
      expect((error as DevServerError).message).toMatch(/Invalid pool size/);
      expect((error as DevServerError).hint).toMatch(/--pool-size/);
    }
  });
});
