import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, send, startHarness, type Harness } from "../../../helpers/server-harness.js";

// Minimal MCP endpoint (docs/protocol.md#mcp): always HTTP 200, tools map onto the JSON-RPC methods.

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ dev: true });
});
afterAll(async () => h.close());

const mcp = (body: unknown) =>
  send(`${h.server.url}/mcp`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("POST /mcp", () => {
  it("initialize and notifications/initialized", async () => {
    const init = await mcp(call("initialize", {}, 1));
    expect(init.status).toBe(200);
    expect(init.json).toMatchObject({
      jsonrpc: "2.0",
      id: 1,
      result: { protocolVersion: "2024-11-05", serverInfo: { name: "microsandbox-server" } },
    });
    const note = await mcp({ jsonrpc: "2.0", method: "notifications/initialized" });
    expect(note.status).toBe(200);
    expect(note.text).toBe("");
  });

  it("lists the five tools", async () => {
    const reply = await mcp(call("tools/list", {}, 2));
    const tools = (reply.json as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name);
    expect(tools).toEqual(["sandbox_start", "sandbox_stop", "sandbox_run_code", "sandbox_run_command", "sandbox_get_metrics"]);
  });

  it("tools/call runs the method and pretty-prints its result", async () => {
    const start = await mcp(call("tools/call", { name: "sandbox_start", arguments: { sandbox: "m1", config: { image: "microsandbox/python" } } }, 3));
    expect(start.json).toStrictEqual({
      jsonrpc: "2.0",
      id: 3,
      result: { content: [{ type: "text", text: JSON.stringify("Sandbox m1 started successfully", null, 2) }] },
    });
    const run = await mcp(call("tools/call", { name: "sandbox_run_code", arguments: { sandbox: "m1", code: "1", language: "python" } }, 4));
    const text = (run.json as { result: { content: { text: string }[] } }).result.content[0]!.text;
    expect(JSON.parse(text)).toStrictEqual({ language: "python", output: [{ stream: "stdout", text: "python:1" }], status: "success" });
  });

  it("tools/call failures are isError results carrying the real cause", async () => {
    const reply = await mcp(call("tools/call", { name: "sandbox_run_command", arguments: { sandbox: "never", command: "ls" } }, 5));
    expect(reply.status).toBe(200);
    const result = (reply.json as { result: { content: { text: string }[]; isError: boolean } }).result;
    expect(result.isError).toBe(true);
    expect(result.content[0]!.text).toMatch(/^Error: sandbox\.command\.run failed: .*"never" is not running/);
  });

  it("unknown methods and wrong jsonrpc are HTTP 200 JSON-RPC errors", async () => {
    const unknown = await mcp(call("resources/list", {}, 6));
    expect(unknown.status).toBe(200);
    expect(unknown.json).toStrictEqual({
      jsonrpc: "2.0",
      id: 6,
      error: { code: -32603, message: "MCP method error: Method not found: resources/list" },
    });
    const wrong = await mcp({ jsonrpc: "1.0", method: "initialize", id: 7 });
    expect(wrong.status).toBe(200);
    expect((wrong.json as { error: { code: number } }).error.code).toBe(-32600);
  });
});
