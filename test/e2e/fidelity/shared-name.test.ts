import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes, MsbvError, NodeSandbox, PythonSandbox } from "../../../src/index.js";
import { startFixture, type DevServerFixture } from "../../helpers/dev-server-fixture.js";

// Issue 12 item 8: a sandbox name is the sandbox's identity on the server (upstream semantics; warm
// pools rely on re-attaching by name), so two clients that create the same name share it. When
// one stops it, the other's next call is MSBV_NOT_STARTED and its isStarted turns false; start()
// brings it back.

let fx: DevServerFixture;
beforeAll(async () => {
  fx = await startFixture();
});
afterAll(async () => {
  await fx?.close();
});

describe("two clients, one name", () => {
  it("share the sandbox; after one stops it the other gets MSBV_NOT_STARTED and isStarted false", async () => {
    const opts = { name: "shared-name", serverUrl: fx.url, configPath: fx.configPath };
    const a = await PythonSandbox.create(opts);
    const b = await PythonSandbox.create(opts);
    try {
      await a.run("owner = 'a'");
      expect(await (await b.run("print(owner)")).output()).toBe("a");

      await a.stop();
      expect(a.isStarted).toBe(false);
      expect(b.isStarted).toBe(true);

      for (const call of [() => b.run("print(1)"), () => b.command.run("true")]) {
        const err = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(MsbvError);
        expect((err as MsbvError).code).toBe(ErrorCodes.NOT_STARTED);
        expect(b.isStarted).toBe(false);
      }
      // The client-side check now answers without a request, as for any stopped sandbox.
      await expect(b.run("print(1)")).rejects.toMatchObject({ code: ErrorCodes.NOT_STARTED, message: "Sandbox is not started. Call start() first." });

      await b.start();
      expect(await (await b.run("print(2)")).output()).toBe("2");
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it("a node client that lost its sandbox also reports MSBV_NOT_STARTED", async () => {
    const opts = { name: "shared-node", serverUrl: fx.url, configPath: fx.configPath };
    const a = await NodeSandbox.create(opts);
    const b = await NodeSandbox.create(opts);
    await a.stop();
    await expect(b.run("1")).rejects.toMatchObject({ code: ErrorCodes.NOT_STARTED });
    expect(b.isStarted).toBe(false);
  });
});
