import { once } from "node:events";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes, PythonSandbox } from "../../../src/index.js";
import { caught } from "../../helpers/caught.js";
import { snapshotTree, startSafetyServer, type SafetyServer } from "../../helpers/safety-fixture.js";

// Read-only that holds: the dev server mounts readonly volumes with --ro-bind (EROFS inside, host
// untouched). A legacy-shaped server, which does not advertise it, gets nothing but the question.

let s: SafetyServer;
let tools: string;
beforeAll(async () => {
  s = await startSafetyServer();
  tools = path.join(s.project, "servers");
  await mkdir(path.join(tools, "github"), { recursive: true });
  await writeFile(path.join(tools, "github", "tool.py"), "def run():\n    return 'tool'\n");
});
afterAll(async () => {
  await s?.close();
});

const WRITE = `
import errno
try:
    open('/w/servers/github/tool.py', 'w').write('hacked')
    print('WROTE')
except OSError as e:
    print('ERRNO', errno.errorcode[e.errno])
`;

describe("readonly on the dev server", () => {
  it("writes inside fail with EROFS, the host folder is untouched, the read-write parent still works", async () => {
    const before = await snapshotTree(tools);
    await using sb = await PythonSandbox.create({
      serverUrl: s.url,
      configPath: s.configPath,
      name: "ro",
      // The code-execution-with-MCP layout: a read-only tool tree inside a read-write workspace.
      volumes: ["./ws:/w", { host: "./servers", guest: "/w/servers", readonly: true }],
    });
    const read = await sb.run("print(open('/w/servers/github/tool.py').read())");
    expect(await read.output()).toContain("return 'tool'");
    const write = await sb.run(WRITE);
    expect(await write.output()).toContain("ERRNO EROFS");
    const rm = await sb.command.run("rm", ["-f", "/w/servers/github/tool.py"]);
    expect(rm.exitCode).not.toBe(0);
    const ok = await sb.run("open('/w/out.txt', 'w').write('rw'); print('done')");
    expect(await ok.output()).toContain("done");
    expect(await readFile(path.join(s.project, "ws", "out.txt"), "utf8")).toBe("rw");
    expect(await snapshotTree(tools)).toEqual(before);
    // The server received the read-only guest in its own field, never as ':ro' in the string.
    const sent = s.server.received.at(-1) as { config: { volumes: string[]; readonly_volumes: string[] } };
    expect(sent.config.readonly_volumes).toEqual(["/w/servers"]);
    expect(sent.config.volumes.join(" ")).not.toContain(":ro");
  });

  it("control: the same volume without readonly can be written (so the refusal above is the mount's)", async () => {
    const scratch = path.join(s.project, "scratch");
    await mkdir(path.join(scratch, "github"), { recursive: true });
    await writeFile(path.join(scratch, "github", "tool.py"), "original");
    await using sb = await PythonSandbox.create({
      serverUrl: s.url,
      configPath: s.configPath,
      name: "rw-control",
      volumes: ["./ws:/w", { host: "./scratch", guest: "/w/servers" }],
    });
    expect(await (await sb.run(WRITE)).output()).toContain("WROTE");
    expect(await readFile(path.join(scratch, "github", "tool.py"), "utf8")).toBe("hacked");
  });
});

describe("readonly against a legacy-shaped server", () => {
  let legacy: Server;
  let url: string;
  const methods: string[] = [];
  beforeAll(async () => {
    // Answers like the legacy server: its five methods; anything else is "method not found".
    legacy = createServer((req, res) => {
      let text = "";
      req.on("data", (c: Buffer) => (text += c.toString()));
      req.on("end", () => {
        const body = JSON.parse(text) as { id: unknown; method: string; params: { sandbox?: string } };
        methods.push(body.method);
        res.setHeader("content-type", "application/json");
        if (body.method.startsWith("sandbox.")) {
          res.end(JSON.stringify({ jsonrpc: "2.0", id: body.id, result: `Sandbox ${body.params.sandbox ?? ""} started successfully` }));
        } else {
          res.statusCode = 404;
          res.end(JSON.stringify({ jsonrpc: "2.0", id: body.id, error: { code: -32601, message: "Method not found" } }));
        }
      });
    });
    legacy.listen(0, "127.0.0.1");
    await once(legacy, "listening");
    url = `http://127.0.0.1:${(legacy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => legacy?.close(r));
  });

  it("is refused before sandbox.start is sent, with a hint that is true; nothing written", async () => {
    const generated = path.join(s.project, ".microsandbox", "generated");
    const before = await readdir(generated).catch(() => []);
    const e = await caught(
      PythonSandbox.create({
        serverUrl: url,
        configPath: s.configPath,
        name: "legacy-ro",
        volumes: [{ host: "./servers", guest: "/servers", readonly: true }],
      }),
    );
    expect(e.code).toBe(ErrorCodes.READONLY_UNSUPPORTED);
    expect(e.hint).toBe("use the msbv dev server (msbv dev-server), which enforces it, or drop readonly");
    expect(methods).toEqual(["msbv.capabilities"]);
    expect(await readdir(generated).catch(() => [])).toEqual(before);
  });

  it("a start without readonly sends exactly one request, as upstream (no capability question)", async () => {
    methods.length = 0;
    const sb = await PythonSandbox.create({ serverUrl: url, configPath: s.configPath, name: "legacy-plain", volumes: ["./ws:/w"] });
    expect(methods).toEqual(["sandbox.start"]);
    await sb.stop();
  });
});
