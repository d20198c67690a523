// `msbv dev-server` as a real child process, and the sandbox commands against it: up, run, exec,
// status, stop, with real bubblewrap sandboxes and a real workspace folder on the host.
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cliEnv,
  isAlive,
  makeProject,
  processesMentioning,
  requireBuiltCli,
  runCli,
  startCliDevServer,
  type CliDevServer,
} from "../../helpers/cli-harness.js";

beforeAll(requireBuiltCli);

describe("msbv dev-server lifecycle", () => {
  it("prints its URL first on stdout, serves /api/v1/health, and exits 0 on SIGTERM leaving no process", async () => {
    const project = await makeProject();
    try {
      const env = cliEnv(project.home);
      const server = await startCliDevServer(["--dev", "--project-dir", path.join(project.dir, "srv"), "--allow-root", project.dir], {
        cwd: project.dir,
        env,
      });
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const health = await fetch(`${server.url}/api/v1/health`);
      expect(health.status).toBe(200);
      await health.body?.cancel();
      const pid = server.child.pid!;
      expect(await server.stop()).toEqual({ code: 0, signal: null });
      expect(isAlive(pid)).toBe(false);
      expect(await processesMentioning(project.dir)).toEqual([]);
    } finally {
      await project.cleanup();
    }
  });
});

describe("msbv dev-server --allow-origin", () => {
  it("echoes only the allowed origins (repeatable flag), never *, and refuses others", async () => {
    const project = await makeProject();
    try {
      const env = cliEnv(project.home);
      const args = [
        "--dev",
        "--project-dir",
        path.join(project.dir, "srv"),
        "--allow-origin",
        "http://localhost:3000",
        "--allow-origin",
        "https://app.test",
      ];
      const server = await startCliDevServer(args, { cwd: project.dir, env });
      try {
        const preflight = (origin: string) =>
          fetch(`${server.url}/api/v1/rpc`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } });
        for (const origin of ["http://localhost:3000", "https://app.test"]) {
          const ok = await preflight(origin);
          expect(ok.status).toBe(200);
          expect(ok.headers.get("access-control-allow-origin")).toBe(origin);
        }
        const other = await preflight("http://evil.example");
        expect(other.status).toBe(403);
        expect(other.headers.get("access-control-allow-origin")).toBeNull();
      } finally {
        expect(await server.stop()).toEqual({ code: 0, signal: null });
      }
    } finally {
      await project.cleanup();
    }
  });
});

describe("msbv sandbox commands against a dev server", () => {
  let project: Awaited<ReturnType<typeof makeProject>>;
  let server: CliDevServer;
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => runCli(args, { cwd: project.dir, env });

  beforeAll(async () => {
    project = await makeProject();
    const base = cliEnv(project.home);
    // --project-dir, not its --path alias: it was once stored under another name and silently ignored.
    server = await startCliDevServer(["--dev", "--project-dir", path.join(project.dir, "srv"), "--allow-root", project.dir], {
      cwd: project.dir,
      env: base,
    });
    env = { ...base, MSB_SERVER_URL: server.url };
    expect((await cli("init")).code).toBe(0);
  });

  afterAll(async () => {
    // Closing the server stops every sandbox it started; then nothing of this test may be left.
    const exit = await server?.stop();
    const leftovers = project ? await processesMentioning(project.dir) : [];
    await project?.cleanup();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(leftovers).toEqual([]);
  });

  it("up starts the declared sandbox and prints its name and mounts", async () => {
    const res = await cli("up");
    expect(res.code, res.stderr).toBe(0);
    const [name, mount] = res.stdout.trim().split("\n");
    expect(name).toBe("agent");
    expect(mount?.trim()).toBe(`${path.join(project.dir, "workspace")} -> /workspace`);
  });

  it("--project-dir is honoured: the Sandboxfile lands in it, not in the shared ~/.microsandbox/projects", async () => {
    expect(await readFile(path.join(project.dir, "srv", "Sandboxfile"), "utf8")).toContain("agent");
    expect(existsSync(path.join(project.home, "projects"))).toBe(false);
  });

  it("run sends stdout to stdout, and the sandbox's write appears in the host workspace", async () => {
    const res = await cli("run", "--", 'open("/workspace/from-cli.txt", "w").write("written in the sandbox"); print("done", 6 * 7)');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain("done 42");
    expect(await readFile(path.join(project.dir, "workspace", "from-cli.txt"), "utf8")).toBe("written in the sandbox");
  });

  it("run keeps REPL state between invocations (the sandbox stays running)", async () => {
    expect((await cli("run", "agent", "--", "kept = 'still here'")).code).toBe(0);
    const res = await cli("run", "agent", "--json", "--", "print(kept)");
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ sandbox: "agent", hasError: false, stdout: "still here" });
  });

  it("run exits 1 with the traceback on stderr when the code fails", async () => {
    const res = await cli("run", "--", "1/0");
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("ZeroDivisionError");
    expect(res.stdout).not.toContain("ZeroDivisionError");
  });

  it("run --file - reads the code from stdin", async () => {
    const res = await runCli(["run", "--file", "-"], { cwd: project.dir, env, input: "print('from stdin')\n" });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trim()).toBe("from stdin");
  });

  it("exec exits with the command's exit code and separates its streams", async () => {
    const res = await cli("exec", "--", "sh", "-c", "cat /workspace/from-cli.txt; echo oops >&2; exit 7");
    expect(res.code).toBe(7);
    expect(res.stdout.trim()).toBe("written in the sandbox");
    expect(res.stderr).toContain("oops");
    const json = await cli("exec", "--json", "--", "true");
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ command: "true", exitCode: 0, success: true });
  });

  it("a node sandbox (from another file via --config) runs JavaScript and sees the same workspace", async () => {
    const file = path.join(project.dir, "node.toml");
    await writeFile(file, '[sandboxes.js]\nimage = "microsandbox/node"\nvolumes = ["./workspace:/workspace"]\n');
    const res = await cli("--config", file, "run", "js", "--", 'console.log(require("fs").readFileSync("/workspace/from-cli.txt", "utf8"))');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trim()).toBe("written in the sandbox");
    expect((await cli("stop", "js")).code).toBe(0);
  });

  it("status --json lists the running sandbox as declared; stop stops it", async () => {
    const before = await cli("status", "--json");
    expect(before.code, before.stderr).toBe(0);
    const rows = JSON.parse(before.stdout).sandboxes as { name: string; running: boolean; declared: boolean }[];
    expect(rows.find((r) => r.name === "agent")).toMatchObject({ running: true, declared: true });

    const stop = await cli("stop");
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout.trim()).toBe("agent");

    const after = JSON.parse((await cli("status", "--json")).stdout).sandboxes as { name: string; running: boolean }[];
    expect(after.find((r) => r.name === "agent")?.running ?? false).toBe(false);
  });

  it("doctor --json passes the server and auth checks against the dev server", async () => {
    const res = await cli("doctor", "--json");
    const report = JSON.parse(res.stdout) as { ok: boolean; checks: { id: string; status: string }[] };
    expect(report.checks.find((c) => c.id === "server")?.status).toBe("ok");
    expect(report.checks.find((c) => c.id === "auth")?.status).toBe("ok");
    expect(res.code).toBe(report.ok ? 0 : 1);
  });
});

describe("msbv dev-server failures", () => {
  it("exits 1 with MSBV_DEV_SERVER when the port is taken", async () => {
    const project = await makeProject();
    const env = cliEnv(project.home);
    const first = await startCliDevServer(["--dev", "--project-dir", path.join(project.dir, "a"), "--allow-root", project.dir], {
      cwd: project.dir,
      env,
    });
    try {
      const port = new URL(first.url).port;
      const second = await runCli(["dev-server", "--dev", "--port", port, "--project-dir", path.join(project.dir, "b")], {
        cwd: project.dir,
        env,
      });
      expect(second.code).toBe(1);
      expect(second.stdout).toBe("");
      expect(second.stderr).toContain("error[MSBV_DEV_SERVER]");
    } finally {
      expect(await first.stop()).toEqual({ code: 0, signal: null });
      await project.cleanup();
    }
  });
});

describe("msbv against a dev server that requires API keys", () => {
  it("exits 3 without a key, works with a key from `msbv keygen`, and never prints the key in errors", async () => {
    const project = await makeProject();
    const env = cliEnv(project.home);
    const server = await startCliDevServer(["--project-dir", path.join(project.dir, "srv"), "--allow-root", project.dir], { cwd: project.dir, env });
    try {
      const withUrl = { ...env, MSB_SERVER_URL: server.url };
      const denied = await runCli(["status"], { cwd: project.dir, env: withUrl });
      expect(denied.code).toBe(3);
      expect(denied.stderr).toContain("error[MSBV_AUTH_FAILED]");

      const keygen = await runCli(["keygen"], { cwd: project.dir, env });
      const key = /^Token: (msb_\S+)$/m.exec(keygen.stdout)?.[1];
      expect(key).toBeDefined();
      const keyed = { ...withUrl, MSB_API_KEY: key! };
      // A fresh server answers a bare metrics call with 500 (legacy behaviour): exit 1, with the reason.
      const fresh = await runCli(["status"], { cwd: project.dir, env: keyed });
      expect(fresh.code).toBe(1);
      expect(fresh.stderr).toContain("until its first sandbox was started");
      expect((await runCli(["init"], { cwd: project.dir, env: keyed })).code).toBe(0);
      const up = await runCli(["up"], { cwd: project.dir, env: keyed });
      expect(up.code, up.stderr).toBe(0);
      const ok = await runCli(["status", "--json"], { cwd: project.dir, env: keyed });
      expect(ok.code, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout).sandboxes).toMatchObject([{ name: "agent", running: true, declared: true }]);
      const doctor = JSON.parse((await runCli(["doctor", "--json"], { cwd: project.dir, env: keyed })).stdout);
      expect(doctor.checks.find((c: { id: string }) => c.id === "auth")).toMatchObject({ status: "ok" });

      const wrong = `${key!.slice(0, -4)}AAAA`;
      const rejected = await runCli(["stop", "nothing"], { cwd: project.dir, env: { ...withUrl, MSB_API_KEY: wrong } });
      expect(rejected.code).toBe(3);
      expect(rejected.stderr).not.toContain(wrong);
      expect(rejected.stderr).not.toContain(wrong.slice(4));
    } finally {
      expect(await server.stop()).toEqual({ code: 0, signal: null });
      await project.cleanup();
    }
  });
});
