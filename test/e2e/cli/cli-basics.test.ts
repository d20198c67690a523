// The built `msbv` without a sandbox server: parsing, exit codes, stdout/stderr separation, init,
// config, keygen, and the unreachable-server paths.
import { createServer } from "node:net";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { jwtVerify } from "jose";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { cliEnv, makeProject, requireBuiltCli, runCli } from "../../helpers/cli-harness.js";

beforeAll(requireBuiltCli);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function project() {
  const p = await makeProject();
  cleanups.push(p.cleanup);
  return { ...p, env: cliEnv(p.home) };
}

/** A loopback port nobody listens on: bind port 0, note it, close. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe("msbv parsing and exit codes", () => {
  it("prints help on stdout with exit 0, and refuses an unknown command with exit 2 on stderr", async () => {
    const { dir, env } = await project();
    const help = await runCli(["--help"], { cwd: dir, env });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("dev-server");
    const bad = await runCli(["frobnicate"], { cwd: dir, env });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toMatch(/unknown command 'frobnicate'/);
  });

  it("refuses an invalid option value with exit 2", async () => {
    const { dir, env } = await project();
    const res = await runCli(["dev-server", "--port", "99999"], { cwd: dir, env });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/port/);
    expect(res.stdout).toBe("");
  });
});

describe("msbv init and config", () => {
  it("init writes the file, the workspace and .gitignore; config --json shows the canonical workspace path", async () => {
    const { dir, env } = await project();
    // Work through a symlinked path so "canonical" is observable.
    const real = path.join(dir, "real");
    const link = path.join(dir, "link");
    await mkdir(real);
    await symlink(real, link);

    const init = await runCli(["init"], { cwd: link, env });
    expect(init.code).toBe(0);
    expect(init.stdout.trim()).toMatch(/microsandbox\.toml$/);
    expect(await readFile(path.join(real, "microsandbox.toml"), "utf8")).toMatch(/^#/m);
    expect(await readFile(path.join(real, ".gitignore"), "utf8")).toContain(".microsandbox/");

    const config = await runCli(["config", "--json"], { cwd: link, env });
    expect(config.code).toBe(0);
    const parsed = JSON.parse(config.stdout) as { sandbox: { name: string; volumes: { host: string; guest: string }[] } };
    expect(parsed.sandbox.name).toBe("agent");
    expect(parsed.sandbox.volumes).toEqual([{ host: path.join(real, "workspace"), guest: "/workspace", readonly: false }]);

    const toml = await runCli(["config"], { cwd: link, env });
    expect(toml.code).toBe(0);
    expect(toml.stdout).toContain(`host = "${path.join(real, "workspace")}"`);
  });

  it("init refuses to overwrite (exit 2) unless --force", async () => {
    const { dir, env } = await project();
    expect((await runCli(["init"], { cwd: dir, env })).code).toBe(0);
    await writeFile(path.join(dir, "microsandbox.toml"), "# mine\n");
    const again = await runCli(["init"], { cwd: dir, env });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("error[MSBV_CONFIG_EXISTS]");
    expect(again.stdout).toBe("");
    expect(await readFile(path.join(dir, "microsandbox.toml"), "utf8")).toBe("# mine\n");
    expect((await runCli(["init", "--force"], { cwd: dir, env })).code).toBe(0);
    expect(await readFile(path.join(dir, "microsandbox.toml"), "utf8")).not.toBe("# mine\n");
  });

  it("a bad config file exits 2 with file:line:col on stderr and nothing on stdout", async () => {
    const { dir, env } = await project();
    const file = path.join(dir, "microsandbox.toml");
    await writeFile(file, '[sandboxes.agent]\nimage = "microsandbox/python"\nmemroy = 512\n');
    for (const args of [["config"], ["config", "--json"], ["status", "--json"]]) {
      const res = await runCli(args, { cwd: dir, env });
      expect(res.code, args.join(" ")).toBe(2);
      expect(res.stdout).toBe("");
      expect(res.stderr).toContain("error[MSBV_CONFIG_INVALID]");
      expect(res.stderr).toContain(`${file}:3:1`);
    }
  });

  it("--config points at a file elsewhere; a missing one is a usage error", async () => {
    const { dir, env } = await project();
    const other = path.join(dir, "elsewhere");
    await mkdir(other);
    await runCli(["init"], { cwd: other, env });
    const cwd = path.join(dir, "cwd");
    await mkdir(cwd);
    const ok = await runCli(["--config", path.join(other, "microsandbox.toml"), "config", "--json"], { cwd, env });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).sandbox.volumes[0].host).toBe(path.join(other, "workspace"));
    const missing = await runCli(["--config", "nope.toml", "config"], { cwd, env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("nope.toml");
  });

  it("a name is required when several sandboxes are declared, and must be declared", async () => {
    const { dir, env } = await project();
    await writeFile(
      path.join(dir, "microsandbox.toml"),
      '[sandboxes.one]\nimage = "microsandbox/python"\n[sandboxes.two]\nimage = "microsandbox/node"\n',
    );
    const none = await runCli(["config"], { cwd: dir, env });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/error\[MSBV_CONFIG_UNKNOWN_SANDBOX\].*name the one/);
    expect(none.stderr).toMatch(/one, two/);
    const unknown = await runCli(["config", "three"], { cwd: dir, env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('"three" is not declared');
    const two = await runCli(["config", "two", "--json"], { cwd: dir, env });
    expect(two.code).toBe(0);
    expect(JSON.parse(two.stdout).sandbox.image).toBe("microsandbox/node");
  });

  it("run and exec without code are usage errors (exit 2), before any server is contacted", async () => {
    const { dir, env } = await project();
    await runCli(["init"], { cwd: dir, env });
    const run = await runCli(["run"], { cwd: dir, env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("needs code");
    const exec = await runCli(["exec", "agent"], { cwd: dir, env });
    expect(exec.code).toBe(2);
    expect(exec.stderr).toContain("needs a command");
    const tail = await runCli(["status", "--", "x"], { cwd: dir, env });
    expect(tail.code).toBe(2);
  });
});

describe("msbv against an unreachable server", () => {
  it("status and stop exit 3 with CONNECTION_FAILED on stderr", async () => {
    const { dir, env } = await project();
    await runCli(["init"], { cwd: dir, env });
    const url = `http://127.0.0.1:${await closedPort()}`;
    for (const args of [["status", "--json"], ["stop"], ["up"]]) {
      const res = await runCli(["--server", url, ...args], { cwd: dir, env });
      expect(res.code, args.join(" ")).toBe(3);
      expect(res.stdout).toBe("");
      expect(res.stderr).toContain("error[MSBV_CONNECTION_FAILED]");
    }
  });

  it("doctor --json reports every check, the server as failed with its fix, and exits 1", async () => {
    const { dir, env } = await project();
    await runCli(["init"], { cwd: dir, env });
    const url = `http://127.0.0.1:${await closedPort()}`;
    const res = await runCli(["doctor", "--json"], { cwd: dir, env: { ...env, MSB_SERVER_URL: url } });
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout) as { ok: boolean; checks: { id: string; status: string; fix?: string }[] };
    expect(report.ok).toBe(false);
    const byId = new Map(report.checks.map((c) => [c.id, c]));
    expect(byId.get("node")?.status).toBe("ok");
    expect(byId.get("config")?.status).toBe("ok");
    expect(byId.get("server")?.status).toBe("fail");
    expect(byId.get("server")?.fix).toMatch(/msbv dev-server/);
    expect(byId.get("bwrap-runs")?.status).toBe("ok");
    expect(byId.get("kvm")?.status).toBe("info");
    // These machines run the CLI as root with cgroup v1 memory + pids mounted (see docs/security.md).
    expect(byId.get("containment")?.status).toBe("info");
    expect((byId.get("containment") as { detail?: string } | undefined)?.detail).toMatch(
      /dedicated unprivileged uid per sandbox.*cgroup v1 memory \+ pids/,
    );
    expect(byId.get("sandbox:agent")?.status).toBe("ok");
  });

  it("doctor flags a declared host path that does not exist", async () => {
    const { dir, env } = await project();
    await writeFile(path.join(dir, "microsandbox.toml"), '[sandboxes.agent]\nvolumes = ["./missing:/data"]\n');
    const res = await runCli(["doctor", "--json"], { cwd: dir, env: { ...env, MSB_SERVER_URL: `http://127.0.0.1:${await closedPort()}` } });
    const report = JSON.parse(res.stdout) as { checks: { id: string; status: string; detail: string; fix?: string }[] };
    const check = report.checks.find((c) => c.id === "sandbox:agent");
    expect(check?.status).toBe("fail");
    expect(check?.detail).toContain("missing");
    expect(check?.fix).toBeTruthy();
  });
});

describe("msbv keygen", () => {
  it("mints a key signed with $MICROSANDBOX_HOME/server.key that expires when it says", async () => {
    const { dir, home, env } = await project();
    const res = await runCli(["keygen", "--expire", "2h"], { cwd: dir, env });
    expect(res.code).toBe(0);
    const [tokenLine, expiresLine] = res.stdout.trim().split("\n");
    const token = /^Token: (msb_\S+)$/.exec(tokenLine ?? "")?.[1];
    const expires = /^Token expires: (\S+)$/.exec(expiresLine ?? "")?.[1];
    expect(token).toBeDefined();
    expect(expires).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const secret = await readFile(path.join(home, "server.key"), "utf8");
    const { payload } = await jwtVerify(token!.slice(4), new TextEncoder().encode(secret));
    expect(payload.exp! - payload.iat!).toBe(7200);
    expect(new Date(expires!).getTime() / 1000).toBe(payload.exp);
  });

  it("refuses a bad --expire with exit 2", async () => {
    const { dir, env } = await project();
    const res = await runCli(["keygen", "--expire", "soon"], { cwd: dir, env });
    expect(res.code).toBe(2);
    expect(res.stdout).toBe("");
    expect(res.stderr).toContain("error[MSBV_INVALID_OPTION]");
  });
});
