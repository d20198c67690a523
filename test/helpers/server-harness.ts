import { join } from "node:path";
import { startDevServer, type DevServerHandle, type DevServerOptions } from "../../src/server/index.js";
import { FakeRuntime } from "./fake-runtime.js";
import { tempDir } from "./temp-dir.js";

export const TEST_SECRET = "test-secret-0123456789abcdefABCD";

export interface Harness extends AsyncDisposable {
  server: DevServerHandle;
  runtime: FakeRuntime;
  root: string;
  logs: string[];
  /** POST a JSON-RPC body (object → JSON) to /api/v1/rpc. */
  rpc(body: unknown, headers?: Record<string, string>): Promise<Reply>;
  close(): Promise<void>;
}

export interface Reply {
  status: number;
  text: string;
  json: unknown;
  headers: Headers;
}

/** A dev server on port 0 with a fake runtime, its home and project dir in a fresh temp dir. */
export async function startHarness(options: Partial<DevServerOptions> = {}): Promise<Harness> {
  const temp = await tempDir("msbv-server-");
  const root = temp.path;
  const runtime = new FakeRuntime();
  const logs: string[] = [];
  let server: DevServerHandle;
  try {
    server = await startDevServer({
      port: 0,
      home: join(root, "home"),
      projectDir: join(root, "home", "projects"),
      runtime,
      logger: (line) => logs.push(line),
      ...options,
    });
  } catch (err) {
    await temp.remove();
    throw err;
  }
  const close = async () => {
    try {
      await server.close();
    } finally {
      await temp.remove();
    }
  };
  return {
    server,
    runtime,
    root,
    logs,
    rpc: (body, headers) =>
      send(`${server.url}/api/v1/rpc`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json", ...headers } }),
    close,
    [Symbol.asyncDispose]: close,
  };
}

export async function send(url: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

/** A JSON-RPC request body with a fixed id. */
export function call(method: string, params?: unknown, id: unknown = "1"): Record<string, unknown> {
  return { jsonrpc: "2.0", method, ...(params !== undefined && { params }), id };
}
