import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevServer, type DevServerHandle } from "../../../src/server/index.js";
import { processesMentioning } from "../../helpers/processes.js";
import { type TempDir, tempDir } from "../../helpers/temp-dir.js";

// End to end: the dev server with its default (bubblewrap) runtime, real processes, real files.

let root: string;
let rootDir: TempDir;
let server: DevServerHandle | undefined;
let hostDir: string;
const logs: string[] = [];

async function rpc(method: string, params: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server!.url}/api/v1/rpc`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", method, params: { namespace: "default", ...(params as object) }, id: method }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  rootDir = await tempDir("msbv-e2e-server-");
  root = rootDir.path;
  hostDir = join(root, "host-data");
  await mkdir(hostDir);
  await writeFile(join(hostDir, "from-host.txt"), "hello from the host\n");
  server = await startDevServer({
    port: 0,
    dev: true,
    home: join(root, "home"),
    projectDir: join(root, "home", "projects"),
    allowRoots: [hostDir],
    logger: (line) => logs.push(line),
  });
});

afterAll(async () => {
  await server?.close();
  await rootDir.remove();
});

describe("dev server + bubblewrap runtime", () => {
  it("starts a python sandbox with a volume; the REPL writes a file the host sees", async () => {
    const start = await rpc("sandbox.start", {
      sandbox: "e2e-py",
      config: { image: "microsandbox/python", memory: 512, cpus: 1, volumes: [`${hostDir}:/workspace`] },
    });
    expect(start, logs.join("\n")).toMatchObject({ status: 200, body: { result: "Sandbox e2e-py started successfully" } });

    const run = await rpc("sandbox.repl.run", {
      sandbox: "e2e-py",
      language: "python",
      code: "data = open('/workspace/from-host.txt').read()\n_ = open('/workspace/from-sandbox.txt', 'w').write(data.upper())\nprint('written', len(data))",
    });
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    expect(run.body.result).toMatchObject({ language: "python", status: "success", output: [{ stream: "stdout", text: "written 20" }] });
    expect(await readFile(join(hostDir, "from-sandbox.txt"), "utf8")).toBe("HELLO FROM THE HOST\n");

    const again = await rpc("sandbox.repl.run", { sandbox: "e2e-py", language: "python", code: "print(len(data) * 2)" });
    expect(again.body.result).toMatchObject({ output: [{ stream: "stdout", text: "40" }] });
  });

  it("reports errors as stderr lines with status success", async () => {
    const run = await rpc("sandbox.repl.run", { sandbox: "e2e-py", language: "python", code: "1/0" });
    expect(run.status).toBe(200);
    const result = run.body.result as { status: string; output: { stream: string; text: string }[] };
    expect(result.status).toBe("success");
    expect(result.output.some((l) => l.stream === "stderr" && l.text.includes("ZeroDivisionError"))).toBe(true);
  });

  it("runs commands without a shell and reports exit codes", async () => {
    const ls = await rpc("sandbox.command.run", { sandbox: "e2e-py", command: "ls", args: ["/workspace"] });
    expect(ls.status).toBe(200);
    const lsResult = ls.body.result as { exit_code: number; success: boolean; output: { text: string }[] };
    expect(lsResult).toMatchObject({ command: "ls", args: ["/workspace"], exit_code: 0, success: true });
    expect(lsResult.output.map((l) => l.text).sort()).toEqual(["from-host.txt", "from-sandbox.txt"]);

    const fail = await rpc("sandbox.command.run", { sandbox: "e2e-py", command: "sh", args: ["-c", "echo oops >&2; exit 3"] });
    expect(fail.body.result).toStrictEqual({
      args: ["-c", "echo oops >&2; exit 3"],
      command: "sh",
      exit_code: 3,
      output: [{ stream: "stderr", text: "oops" }],
      success: false,
    });

    const missing = await rpc("sandbox.command.run", { sandbox: "e2e-py", command: "no-such-binary-xyz" });
    expect(missing).toMatchObject({ status: 500, body: { error: "Internal server error", code: 5002, data: { kind: "executable_not_found" } } });
  });

  it("reports metrics while running and nulls after stop", async () => {
    const running = await rpc("sandbox.metrics.get", { sandbox: "e2e-py" });
    const row = (running.body.result as { sandboxes: Record<string, unknown>[] }).sandboxes[0]!;
    expect(row).toMatchObject({ name: "e2e-py", running: true });
    expect(typeof row.memory_usage).toBe("number");

    expect((await rpc("sandbox.stop", { sandbox: "e2e-py" })).body.result).toBe("Sandbox e2e-py stopped successfully");
    const stopped = await rpc("sandbox.metrics.get", {});
    expect((stopped.body.result as { sandboxes: unknown[] }).sandboxes).toStrictEqual([
      { name: "e2e-py", running: false, cpu_usage: null, memory_usage: null, disk_usage: null },
    ]);
    const afterStop = await rpc("sandbox.repl.run", { sandbox: "e2e-py", language: "python", code: "1" });
    expect(afterStop.status).toBe(500);
  });

  it("keeps node REPL state and restarts a stopped sandbox from its stored entry", async () => {
    await rpc("sandbox.start", { sandbox: "e2e-node", config: { image: "microsandbox/node", volumes: [`${hostDir}:/data`] } });
    await rpc("sandbox.repl.run", { sandbox: "e2e-node", language: "javascript", code: "globalThis.n = 20" });
    const run = await rpc("sandbox.repl.run", { sandbox: "e2e-node", language: "node", code: "console.log(n + 1)" });
    expect(run.body.result).toMatchObject({ language: "node", output: [{ stream: "stdout", text: "21" }] });
    const restart = await rpc("sandbox.start", { sandbox: "e2e-py" });
    expect(restart.body.result).toBe("Sandbox e2e-py started successfully");
  });

  it("close() leaves no sandbox process behind", async () => {
    expect((await processesMentioning(root)).length).toBeGreaterThan(0);
    await server!.close();
    const deadline = Date.now() + 10_000;
    let left = await processesMentioning(root);
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      left = await processesMentioning(root);
    }
    expect(left).toEqual([]);
  });
});
