import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes, MsbvError, PythonSandbox } from "../../../src/index.js";
import { startFixture, type DevServerFixture } from "../../helpers/dev-server-fixture.js";

// Issue 12 item 7: when run()/command.run reject on the client's own limit (timeoutMs or an
// AbortSignal), the sandbox's run is interrupted, so the next call does not wait behind it.
// The busy code below would run for 120 s; the follow-up call allows 30 s, so it can only pass if
// the first run was really stopped. The REPL keeps its state (SIGINT, not a restart).

let fx: DevServerFixture;
let sb: PythonSandbox;
beforeAll(async () => {
  fx = await startFixture();
  sb = await PythonSandbox.create({ name: "client-timeout", serverUrl: fx.url, configPath: fx.configPath });
  await sb.run("kept = 41");
});
afterAll(async () => {
  await sb?.stop();
  await fx?.close();
});

const BUSY = "import time\nfor _ in range(1200):\n    time.sleep(0.1)";

async function rejection(p: Promise<unknown>): Promise<MsbvError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MsbvError);
  return err as MsbvError;
}

describe("a client-side limit interrupts the sandbox's run", () => {
  it("run() with timeoutMs: the server stops the code too", async () => {
    const err = await rejection(sb.run(BUSY, { timeoutMs: 1500 }));
    expect(err.code).toBe(ErrorCodes.TIMEOUT);
    const next = await sb.run("print(kept + 1)", { timeoutMs: 30_000 });
    expect(await next.output()).toBe("42");
  });

  it("run() aborted by the caller's signal: the dev server interrupts on hang-up", async () => {
    const ctrl = new AbortController();
    const pending = sb.run(BUSY, { signal: ctrl.signal });
    setTimeout(() => ctrl.abort(), 1000);
    const err = await rejection(pending);
    expect(err.code).toBe(ErrorCodes.ABORTED);
    const next = await sb.run("print(kept + 1)", { timeoutMs: 30_000 });
    expect(await next.output()).toBe("42");
  });

  it("command.run aborted by the caller's signal: its process is killed", async () => {
    const ctrl = new AbortController();
    const pending = sb.command.run("sh", ["-c", "echo started > /tmp/cmd-state; sleep 120; echo finished > /tmp/cmd-state"], undefined, {
      signal: ctrl.signal,
    });
    setTimeout(() => ctrl.abort(), 1000);
    const err = await rejection(pending);
    expect(err.code).toBe(ErrorCodes.ABORTED);
    // The sleeping shell must be gone: no process of that command line is left in the sandbox.
    const ps = await sb.command.run("sh", ["-c", "sleep 1; for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done"]);
    expect(await ps.output()).not.toContain("sleep 120");
  });
});
