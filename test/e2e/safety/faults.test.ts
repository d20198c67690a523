import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCodes, type MsbvError, PythonSandbox, RpcBackend, ServerError, isMsbvError } from "../../../src/index.js";
import {
  distEntry,
  pidNamespaces,
  processesInNamespaces,
  processesMentioning,
  sandboxProcessesMentioning,
  startSafetyServer,
  waitUntilEmpty,
} from "../../helpers/safety-fixture.js";
import { caught } from "../../helpers/caught.js";
import { bootTicksNow } from "../../helpers/processes.js";
import { tempDir } from "../../helpers/temp-dir.js";

// Faults: each one ends in a typed error (no hang: every call carries a time limit whose expiry would
// show up as TIMEOUT, so a different code proves the fault was noticed first), leaves no process
// behind and loses or half-writes no file the user wrote.

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
});

/** Spawns a fixture script with Node; resolves with the child and its first stdout line. */
async function spawnFixture(script: string, args: string[]): Promise<{ child: ChildProcess; line: string; stderr: () => string }> {
  const child = spawn(process.execPath, [path.join(FIXTURES, script), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await once(child, "exit");
    }
  });
  let err = "";
  child.stderr?.setEncoding("utf8").on("data", (t: string) => (err += t));
  let out = "";
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout?.setEncoding("utf8").on("data", (t: string) => {
      out += t;
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once("exit", (code) => reject(new Error(`${script} exited (${code}) before answering: ${err}`)));
  });
  return { child, line, stderr: () => err };
}

async function tempProject(): Promise<{ root: string; project: string; configPath: string }> {
  const temp = await tempDir("msbv-faults-");
  const root = temp.path;
  cleanups.push(temp.remove);
  const project = path.join(root, "project");
  await mkdir(path.join(project, "ws"), { recursive: true });
  const configPath = path.join(project, "microsandbox.toml");
  await writeFile(configPath, "# faults\n");
  return { root, project, configPath };
}

describe("faults", () => {
  it("server SIGKILLed during a long run: CONNECTION_FAILED at once, its sandboxes die with it, user files intact", async () => {
    const entry = await distEntry("server/index.js");
    const { root, project, configPath } = await tempProject();
    const serverDir = path.join(root, "server");
    const { child, line } = await spawnFixture("dev-server-child.mjs", [entry, serverDir, path.join(root, "home"), project]);
    const { url } = JSON.parse(line) as { url: string };
    await writeFile(path.join(project, "ws", "user.txt"), "the user's own file\n");

    const sb = await PythonSandbox.create({ serverUrl: url, configPath, name: "doomed", volumes: ["./ws:/workspace"] });
    const first = await sb.run("open('/workspace/before.txt', 'w').write('complete')");
    expect(first.hasError()).toBe(false);
    // The pool's waiting sandboxes have namespaces of their own; the started one is counted here,
    // and the check after the kill covers every process, the pool's included.
    const bwraps = await sandboxProcessesMentioning(serverDir);
    expect(bwraps.length).toBeGreaterThan(0);
    const namespaces = await pidNamespaces(bwraps);
    for (const own of await pidNamespaces([process.pid])) namespaces.delete(own);
    expect(namespaces.size).toBe(1);

    const pending = caught(sb.run("import time; time.sleep(30)", { timeoutMs: 25_000 }));
    await sleep(500); // let the run reach the sandbox
    const beforeKill = await bootTicksNow();
    child.kill("SIGKILL");
    const e = await pending;
    expect(e).toBeInstanceOf(ServerError);
    expect(e.code).toBe(ErrorCodes.CONNECTION_FAILED);
    expect(e.hint).toMatch(/start the server/);

    // --die-with-parent: every sandbox process went with the server.
    expect(await waitUntilEmpty(() => processesMentioning(serverDir))).toEqual([]);
    expect(await waitUntilEmpty(() => processesInNamespaces(namespaces, beforeKill))).toEqual([]);
    // Later calls fail the same typed way, quickly (refused port), never hang.
    expect((await caught(sb.run("1", { timeoutMs: 10_000 }))).code).toBe(ErrorCodes.CONNECTION_FAILED);
    expect((await caught(sb.stop({ timeoutMs: 10_000 }))).code).toBe(ErrorCodes.CONNECTION_FAILED);
    expect(await readFile(path.join(project, "ws", "user.txt"), "utf8")).toBe("the user's own file\n");
    expect(await readFile(path.join(project, "ws", "before.txt"), "utf8")).toBe("complete");
  });

  it("interpreter SIGKILLed while writing a big file: typed result, the sandbox and server stay usable, user files intact", async () => {
    const s = await startSafetyServer();
    cleanups.push(() => s.close());
    await writeFile(path.join(s.project, "ws", "user.txt"), "the user's own file\n");
    const sb = await PythonSandbox.create({ serverUrl: s.url, configPath: s.configPath, name: "victim", volumes: ["./ws:/workspace"] });
    cleanups.push(() => sb.stop());
    await sb.run("x = 1");
    const code = [
      "import os",
      "f = open('/workspace/big.bin', 'wb')",
      "chunk = b'x' * (1 << 20)",
      "for i in range(64):",
      "    f.write(chunk)",
      "    if i == 20:",
      "        os.kill(os.getpid(), 9)",
    ].join("\n");
    const outcome = await sb.run(code, { timeoutMs: 30_000 }).then(
      async (exec) => ({ ok: true as const, error: await exec.error(), hasError: exec.hasError() }),
      (e: unknown) => ({ ok: false as const, e }),
    );
    if (outcome.ok) {
      // The run is reported as failed, not as success.
      expect(outcome.hasError).toBe(true);
      expect(outcome.error).toMatch(/\S/);
    } else {
      expect(isMsbvError(outcome.e)).toBe(true);
      expect((outcome.e as MsbvError).code).not.toBe(ErrorCodes.TIMEOUT);
    }
    // The same sandbox answers again (fresh interpreter), the workspace is still mounted.
    const after = await sb.run("import os\nprint(os.path.getsize('/workspace/big.bin') > 0)", { timeoutMs: 30_000 });
    expect(after.hasError()).toBe(false);
    expect(await after.output()).toBe("True");
    // And the server still starts other sandboxes.
    {
      await using other = await PythonSandbox.create({ serverUrl: s.url, configPath: s.configPath, name: "other" });
      expect(await (await other.run("print(6 * 7)")).output()).toBe("42");
    }
    expect(await readFile(path.join(s.project, "ws", "user.txt"), "utf8")).toBe("the user's own file\n");
  });

  it("client process exits without stop(): the sandbox keeps running on the server and server close() stops it", async () => {
    const entry = await distEntry("index.js");
    const s = await startSafetyServer();
    let closed = false;
    cleanups.push(() => (closed ? Promise.resolve() : s.close()));
    const { child, line } = await spawnFixture("client-child.mjs", [entry, s.url, s.configPath, "left-behind"]);
    expect(line).toBe("started");
    if (child.exitCode === null) await once(child, "exit");
    expect(child.exitCode).toBe(0);

    // Legacy semantics: a sandbox belongs to the server, not to the client process that started it.
    expect(await s.runningSandboxes()).toEqual(["left-behind"]);
    expect(await readFile(path.join(s.project, "ws", "from-child.txt"), "utf8")).toBe("written by the exited client");
    const backend = new RpcBackend({ url: s.url });
    const kept = await backend.runCode("left-behind", "python", "print(left)", undefined, { timeoutMs: 30_000 });
    expect(kept.output.map((o) => o.text)).toEqual(["state kept in the REPL"]);
    const processes = await s.sandboxProcesses();
    expect(processes.length).toBeGreaterThan(0);

    await s.server.close();
    expect(await waitUntilEmpty(() => s.sandboxProcesses())).toEqual([]);
    await s.close();
    closed = true;
  });

  describe("network", () => {
    let hung: Server | undefined;
    const sockets = new Set<Socket>();
    afterEach(async () => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (hung) await new Promise((resolve) => hung?.close(resolve));
      hung = undefined;
    });

    /** A TCP server that accepts every connection and never answers. */
    async function hungServer(): Promise<string> {
      hung = createServer((socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => hung?.listen(0, "127.0.0.1", resolve));
      return `http://127.0.0.1:${(hung.address() as { port: number }).port}`;
    }

    it("a server that accepts and never answers: TIMEOUT within timeoutMs, for start and for run", async () => {
      const url = await hungServer();
      const { configPath } = await tempProject();
      const e = await caught(PythonSandbox.create({ serverUrl: url, configPath, name: "hung", timeoutMs: 500 }));
      expect(e).toBeInstanceOf(ServerError);
      expect(e.code).toBe(ErrorCodes.TIMEOUT);
      expect(e.message).toContain("500 ms");
      expect(e.hint).toMatch(/timeout/);
      const backend = new RpcBackend({ url });
      const run = await caught(backend.runCode("hung", "python", "1", undefined, { timeoutMs: 300 }));
      expect(run.code).toBe(ErrorCodes.TIMEOUT);
      const metrics = await caught(backend.metrics(undefined, { timeoutMs: 300 }));
      expect(metrics.code).toBe(ErrorCodes.TIMEOUT);
    });

    it("an AbortSignal aborts a hung call with ABORTED (and an already-aborted signal sends nothing)", async () => {
      const url = await hungServer();
      const { configPath } = await tempProject();
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      const e = await caught(PythonSandbox.create({ serverUrl: url, configPath, name: "aborted", signal: controller.signal, timeoutMs: 30_000 }));
      expect(e.code).toBe(ErrorCodes.ABORTED);
      const connections = sockets.size;
      const pre = await caught(new RpcBackend({ url }).runCode("aborted", "python", "1", undefined, { signal: AbortSignal.abort() }));
      expect(pre.code).toBe(ErrorCodes.ABORTED);
      expect(sockets.size).toBeLessThanOrEqual(connections);
    });

    it("a port where nothing listens: CONNECTION_FAILED naming the fix", async () => {
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
      const port = (probe.address() as { port: number }).port;
      await new Promise((resolve) => probe.close(resolve));
      const { configPath } = await tempProject();
      const e = await caught(PythonSandbox.create({ serverUrl: `http://127.0.0.1:${port}`, configPath, name: "nobody", timeoutMs: 10_000 }));
      expect(e.code).toBe(ErrorCodes.CONNECTION_FAILED);
      expect(e.hint).toMatch(/msbv dev-server|MSB_SERVER_URL/);
    });
  });
});
