import { createServer } from "node:net";
import { readdir, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { cliEnv, makeProject, requireBuiltCli, runCli } from "../../helpers/cli-harness.js";

// Issue 12 item 11: `msbv doctor` and `msbv config` only look. A `create = true` folder is not made
// by them, and a missing folder's error points at the microsandbox.toml line that declares it.
// Uses the built CLI (`npm run build` first).

beforeAll(requireBuiltCli);
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Every path under `dir` (relative), except the private microsandbox home the harness uses. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((e) => !e.startsWith(".home")).sort();
}

const TOML = [
  "[sandboxes.agent]",
  'image = "microsandbox/python"',
  "volumes = [",
  '  { host = "./made-later", guest = "/data", create = true },',
  "]",
  "",
].join("\n");

describe("read-only commands do not change the disk", () => {
  it("doctor and config leave a create = true folder uncreated", async () => {
    const p = await makeProject();
    cleanups.push(p.cleanup);
    const env = { ...cliEnv(p.home), MSB_SERVER_URL: `http://127.0.0.1:${await closedPort()}` };
    await writeFile(path.join(p.dir, "microsandbox.toml"), TOML);
    const before = await tree(p.dir);
    const config = await runCli(["config", "--json"], { cwd: p.dir, env });
    expect(config.stderr).toBe("");
    expect(config.code).toBe(0);
    expect(JSON.parse(config.stdout).sandbox.volumes[0]).toMatchObject({ host: path.join(p.dir, "made-later"), guest: "/data" });
    const toml = await runCli(["config"], { cwd: p.dir, env });
    expect(toml.code).toBe(0);
    const doctor = await runCli(["doctor", "--json"], { cwd: p.dir, env });
    const report = JSON.parse(doctor.stdout) as { checks: { id: string; status: string }[] };
    expect(report.checks.find((c) => c.id === "sandbox:agent")?.status).toBe("ok");
    expect(await tree(p.dir)).toEqual(before);
  });

  it("a missing folder's error names its microsandbox.toml line", async () => {
    const p = await makeProject();
    cleanups.push(p.cleanup);
    const env = { ...cliEnv(p.home), MSB_SERVER_URL: `http://127.0.0.1:${await closedPort()}` };
    const file = path.join(p.dir, "microsandbox.toml");
    await writeFile(file, ["[sandboxes.agent]", "", 'volumes = ["./here:/here", "./missing:/data"]', ""].join("\n"));
    const config = await runCli(["config"], { cwd: p.dir, env });
    expect(config.code).toBe(2);
    expect(config.stderr).toContain(`${file}:3:`);
    expect(config.stderr).toContain('sandboxes.agent.volumes[1] "./missing:/data"');
    const doctor = await runCli(["doctor", "--json"], { cwd: p.dir, env });
    const check = (JSON.parse(doctor.stdout) as { checks: { id: string; detail: string }[] }).checks.find((c) => c.id === "sandbox:agent");
    expect(check?.detail).toContain(`${file}:3:`);
  });
});
