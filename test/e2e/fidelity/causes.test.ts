import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes, MsbvError, PythonSandbox } from "../../../src/index.js";
import { startFixture, type DevServerFixture } from "../../helpers/dev-server-fixture.js";

// Issue 12 item 5: the legacy wire shape stays `{"error":"Internal server error","code":5002}`,
// the cause travels in `data` (ignored by legacy clients) and our errors surface it.

let fx: DevServerFixture;
let sb: PythonSandbox;
beforeAll(async () => {
  fx = await startFixture();
  sb = await PythonSandbox.create({ name: "causes", serverUrl: fx.url, configPath: fx.configPath });
});
afterAll(async () => {
  await sb?.stop();
  await fx?.close();
});

async function failure(p: Promise<unknown>): Promise<MsbvError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MsbvError);
  return err as MsbvError;
}

async function rawCall(method: string, params: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${fx.url}/api/v1/rpc`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", method, params: { namespace: "default", ...params }, id: "1" }),
  });
  return { status: res.status, body: await res.json() };
}

describe("failure causes reach the caller", () => {
  it("wire: legacy fields unchanged, cause in data", async () => {
    const { status, body } = await rawCall("sandbox.command.run", { sandbox: "causes", command: "no-such-tool", args: [] });
    expect(status).toBe(500);
    expect(body).toMatchObject({ error: "Internal server error", code: 5002, data: { kind: "executable_not_found" } });
    expect((body as { data: { cause: string } }).data.cause).toMatch(/no-such-tool.*executable not found/);
  });

  it("a missing executable says so", async () => {
    const err = await failure(sb.command.run("no-such-tool", ["x"]));
    expect(err.code).toBe(ErrorCodes.SERVER_ERROR);
    expect(err.message).toMatch(/no-such-tool.*executable not found/);
    expect(err.details.kind).toBe("executable_not_found");
  });

  it("a command timeout is MSBV_TIMEOUT", async () => {
    const err = await failure(sb.command.run("sleep", ["30"], 1));
    expect(err.code).toBe(ErrorCodes.TIMEOUT);
    expect(err.message).toMatch(/timed out after 1 seconds/);
  });

  it("a sandbox that is not running is MSBV_NOT_STARTED on the wire's data", async () => {
    const { status, body } = await rawCall("sandbox.command.run", { sandbox: "never-started", command: "true", args: [] });
    expect(status).toBe(500);
    expect(body).toMatchObject({ error: "Internal server error", code: 5002, data: { kind: "not_started" } });
  });

  it("unexpected internal failures keep their cause in the log only", async () => {
    const { body } = await rawCall("sandbox.command.run", { sandbox: "causes", command: 42 });
    expect(body).toEqual({ error: "Internal server error", code: 5002, data: { kind: "internal" } });
  });
});
