import { rpcErrorReply, rpcSuccess, toRpcRequest, type JsonReply, type TextReply } from "./json-rpc.js";
import { METHODS, type MethodContext } from "../methods/index.js";

// Minimal Model Context Protocol endpoint (docs/protocol.md#mcp): plain JSON over POST, no SSE, no session.
// Tools map onto the same JSON-RPC methods; unlike /api/v1/rpc, failures carry their real cause.

const PROTOCOL_VERSION = "2024-11-05";

const TOOL_METHODS: Record<string, string> = {
  sandbox_start: "sandbox.start",
  sandbox_stop: "sandbox.stop",
  sandbox_run_code: "sandbox.repl.run",
  sandbox_run_command: "sandbox.command.run",
  sandbox_get_metrics: "sandbox.metrics.get",
};

const str = { type: "string" } as const;
const strList = { type: "array", items: str } as const;

const TOOLS = [
  tool(
    "sandbox_start",
    "Start a sandbox (create or replace its configuration when config.image is given)",
    {
      sandbox: str,
      config: {
        type: "object",
        properties: {
          image: { type: "string", enum: ["microsandbox/python", "microsandbox/node"] },
          memory: { type: "integer" },
          cpus: { type: "integer" },
          volumes: strList,
          readonly_volumes: strList,
          ports: strList,
          envs: strList,
          workdir: str,
        },
      },
    },
    ["sandbox"],
  ),
  tool("sandbox_stop", "Stop a running sandbox", { sandbox: str }, ["sandbox"]),
  tool(
    "sandbox_run_code",
    "Run code in the sandbox's persistent REPL",
    { sandbox: str, code: str, language: { type: "string", enum: ["python", "nodejs"] } },
    ["sandbox", "code", "language"],
  ),
  tool("sandbox_run_command", "Run a command (no shell) in the sandbox", { sandbox: str, command: str, args: strList }, ["sandbox", "command"]),
  tool("sandbox_get_metrics", "Metrics of one sandbox or of all", { sandbox: str }, []),
];

const PROMPTS = ["python", "node"].map((lang) => ({
  name: `create_${lang}_sandbox`,
  description: `Create a ${lang} sandbox`,
  arguments: [{ name: "sandbox_name", description: "Name of the sandbox", required: true }],
}));

function tool(name: string, description: string, properties: Record<string, unknown>, required: string[]) {
  return { name, description, inputSchema: { type: "object", properties, required } };
}

/** Handles one parsed `/mcp` body. `undefined` = HTTP 200 with an empty body (notifications). */
export async function dispatchMcp(value: unknown, ctx: MethodContext): Promise<JsonReply | TextReply | undefined> {
  const req = toRpcRequest(value);
  if ("problem" in req) {
    return { status: 422, text: `Failed to deserialize the JSON body into the target type: ${req.problem}` };
  }
  if (req.jsonrpc !== "2.0") return rpcErrorReply(req, 200, -32600, "Invalid or missing jsonrpc version field");
  const methodError = (message: string) => rpcErrorReply(req, 200, -32603, `MCP method error: ${message}`);
  switch (req.method) {
    case "initialize":
      return rpcSuccess(req, {
        protocolVersion: PROTOCOL_VERSION,
        capabilities: { tools: { listChanged: false }, prompts: { listChanged: false } },
        serverInfo: { name: "microsandbox-server", version: "0.2.6" },
      });
    case "notifications/initialized":
      return undefined;
    case "tools/list":
      return rpcSuccess(req, { tools: TOOLS });
    case "prompts/list":
      return rpcSuccess(req, { prompts: PROMPTS });
    case "tools/call":
      return callTool(req.params, ctx).then((result) => (typeof result === "string" ? methodError(result) : rpcSuccess(req, result)));
    default:
      return methodError(`Method not found: ${req.method}`);
  }
}

async function callTool(params: unknown, ctx: MethodContext): Promise<string | Record<string, unknown>> {
  const p = typeof params === "object" && params !== null ? (params as Record<string, unknown>) : {};
  const method = typeof p.name === "string" ? TOOL_METHODS[p.name] : undefined;
  const handler = method === undefined ? undefined : METHODS.get(method);
  if (method === undefined || handler === undefined) return `Unknown tool: ${String(p.name)}`;
  try {
    const result = await handler(p.arguments ?? {}, ctx);
    return { content: [{ type: "text", text: JSON.stringify(result, null, 2) }] };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    ctx.log(`mcp ${method} failed: ${message}`);
    return { content: [{ type: "text", text: `Error: ${method} failed: ${message}` }], isError: true };
  }
}
