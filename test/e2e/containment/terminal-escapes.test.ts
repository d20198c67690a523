// Finding 12 of issue 11: a sandbox (or a hostile server) prints escape sequences that set the window
// title (OSC 0), write the clipboard (OSC 52) and clear the screen (CSI 2J). Through a pseudo-terminal
// (`script` from util-linux) `msbv run/exec` must show them inert; piped, the output stays byte-exact
// (programs reading it want the real bytes); `--raw` opts back in. Server error messages are always inert.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cliEnv, makeProject, requireBuiltCli, runCli, startCliDevServer, type CliDevServer } from "../../helpers/cli-harness.js";

const ESC = "\x1b";
const BEL = "\x07";
const CSI8 = "\u009b"; // 8-bit CSI, UTF-8 encoded: some terminals act on it
const PAYLOAD = `title${ESC}]0;pwned${BEL} clip${ESC}]52;c;ZWNobyBwd25lZA==${BEL} clear${ESC}[2J${ESC}[H c1${CSI8}31m end`;
const SHOWN = "title^[]0;pwned^G clip^[]52;c;ZWNobyBwd25lZA==^G clear^[[2J^[[H c1\\u009b31m end";

/** Runs the built CLI under a pseudo-terminal; returns everything the terminal received. */
function runInPty(args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ code: number | null; out: string }> {
  const quoted = [process.execPath, CLI, ...args].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qefc", quoted, "/dev/null"], { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

beforeAll(requireBuiltCli);

describe("sandbox output with escape sequences", () => {
  let project: Awaited<ReturnType<typeof makeProject>>;
  let server: CliDevServer;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    project = await makeProject();
    const base = cliEnv(project.home);
    server = await startCliDevServer(["--dev", "--project-dir", path.join(project.dir, "srv")], { cwd: project.dir, env: base });
    env = { ...base, MSB_SERVER_URL: server.url };
    expect((await runCli(["init"], { cwd: project.dir, env })).code).toBe(0);
    await writeFile(path.join(project.dir, "workspace", "payload"), PAYLOAD);
    await writeFile(path.join(project.dir, "payload.py"), "import sys\n_ = sys.stdout.write(open('/workspace/payload').read())\n");
  });
  afterAll(async () => {
    await server?.stop();
    await project?.cleanup();
  });

  it("exec on a terminal: every sequence is shown, none reaches the terminal", async () => {
    const r = await runInPty(["exec", "--", "cat", "/workspace/payload"], { cwd: project.dir, env });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(SHOWN);
    expect(r.out).not.toContain(ESC);
    expect(r.out).not.toContain(BEL);
    expect(r.out).not.toContain(CSI8);
  });

  it("exec on a terminal: the sandbox's stderr is neutralised too", async () => {
    const r = await runInPty(["exec", "--", "sh", "-c", "cat /workspace/payload >&2"], { cwd: project.dir, env });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(SHOWN);
    expect(r.out).not.toContain(ESC);
    expect(r.out).not.toContain(CSI8);
  });

  it("run on a terminal: same", async () => {
    const r = await runInPty(["run", "--file", "payload.py"], { cwd: project.dir, env });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(SHOWN);
    expect(r.out).not.toContain(ESC);
  });

  it("control: --raw on a terminal writes the sequences as they are", async () => {
    const r = await runInPty(["exec", "--raw", "--", "cat", "/workspace/payload"], { cwd: project.dir, env });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(PAYLOAD);
  });

  it("piped: run and exec output is byte-exact", async () => {
    const exec = await runCli(["exec", "--", "cat", "/workspace/payload"], { cwd: project.dir, env });
    expect(exec.stdout).toBe(`${PAYLOAD}\n`);
    const run = await runCli(["run", "--file", "payload.py"], { cwd: project.dir, env });
    expect(run.stdout).toBe(`${PAYLOAD}\n`);
  });
});

describe("a hostile server's error message", () => {
  it("reaches the terminal inert, even when stderr is a pipe", async () => {
    const hostile = createServer((_req, res) => {
      const body = JSON.stringify({ jsonrpc: "2.0", id: "1", error: { code: -32603, message: `failed ${PAYLOAD}` } });
      res.writeHead(200, { "content-type": "application/json" }).end(body);
    });
    await new Promise<void>((ok) => hostile.listen(0, "127.0.0.1", ok));
    const project = await makeProject();
    try {
      const port = (hostile.address() as { port: number }).port;
      const env = cliEnv(project.home, { MSB_SERVER_URL: `http://127.0.0.1:${port}` });
      const piped = await runCli(["status"], { cwd: project.dir, env });
      expect(piped.code).not.toBe(0);
      expect(piped.stderr).toContain("^[]52;c;");
      expect(piped.stderr).not.toContain(ESC);
      const tty = await runInPty(["status"], { cwd: project.dir, env });
      expect(tty.out).toContain("^[]0;pwned^G");
      expect(tty.out).not.toContain(ESC);
    } finally {
      hostile.close();
      await project.cleanup();
    }
  });
});

describe("a hostile server's sandbox names", () => {
  it("`msbv status` and `msbv stop --all` print them inert", async () => {
    const hostile = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        // `msbv status` also asks GET /api/v1/health (the sandbox network line); this server has none.
        if (req.method !== "POST") {
          res.writeHead(404).end();
          return;
        }
        const call = JSON.parse(body) as { id: string; method: string };
        const result =
          call.method === "sandbox.metrics.get"
            ? { sandboxes: [{ name: `n${PAYLOAD}`, running: true, cpu_usage: null, memory_usage: null, disk_usage: null }] }
            : "stopped";
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: call.id, result }));
      });
    });
    await new Promise<void>((ok) => hostile.listen(0, "127.0.0.1", ok));
    const project = await makeProject();
    try {
      const port = (hostile.address() as { port: number }).port;
      const env = cliEnv(project.home, { MSB_SERVER_URL: `http://127.0.0.1:${port}` });
      const status = await runInPty(["status"], { cwd: project.dir, env });
      expect(status.out).toContain("^[]52;c;");
      expect(status.out).not.toContain(ESC);
      const stop = await runInPty(["stop", "--all"], { cwd: project.dir, env });
      expect(stop.out).toContain("^[]0;pwned^G");
      expect(stop.out).not.toContain(ESC);
    } finally {
      hostile.close();
      await project.cleanup();
    }
  });
});
