import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PythonSandbox } from "../../../src/index.js";
import { startFixture, type DevServerFixture } from "../../helpers/dev-server-fixture.js";

// Issue 12 item 6: the first call after start used to be retried on any HTTP 500, so a first
// command that timed out on the server ran again. Each run appends one line to a counter file;
// exactly one line must be there afterwards.

let fx: DevServerFixture;
beforeAll(async () => {
  fx = await startFixture();
});
afterAll(async () => {
  await fx?.close();
});

describe("a call that may have reached the sandbox is never repeated", () => {
  it("a first command.run that times out on the server runs once", async () => {
    const sb = await PythonSandbox.create({ name: "no-repeat-cmd", serverUrl: fx.url, configPath: fx.configPath });
    try {
      const err = await sb.command.run("sh", ["-c", "echo ran >> /tmp/count; sleep 30"], 1).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      const count = await sb.command.run("sh", ["-c", "wc -l < /tmp/count"]);
      expect((await count.output()).trim()).toBe("1");
    } finally {
      await sb.stop();
    }
  });
});
