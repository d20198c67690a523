// Finding 7 of issue 11: the sandbox rewrites its own trust. (a) With the project folder itself mounted,
// a sandbox edits microsandbox.toml (adds /etc and a policy allow) and the next unchanged start mounts
// /etc. (b) The sandbox plants workspace/microsandbox.toml and `msbv exec` run from inside workspace/
// uses it. Real `msbv` CLI, real dev server, real bubblewrap: both must fail.
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findConfigFile } from "../../../src/config/index.js";
import { cliEnv, makeProject, requireBuiltCli, runCli, startCliDevServer, type CliDevServer } from "../../helpers/cli-harness.js";

beforeAll(requireBuiltCli);

let project: Awaited<ReturnType<typeof makeProject>>;
let server: CliDevServer;
let env: NodeJS.ProcessEnv;
const cli = (args: string[], cwd = project.dir) => runCli(args, { cwd, env });
const received = async () => ((await (await fetch(`${server.url}/_dev/received`)).json()) as { received: { sandbox: string }[] }).received;

beforeAll(async () => {
  project = await makeProject();
  const base = cliEnv(project.home);
  server = await startCliDevServer(["--dev", "--project-dir", path.join(project.dir, "srv")], { cwd: project.dir, env: base });
  env = { ...base, MSB_SERVER_URL: server.url };
  expect((await cli(["init"])).code).toBe(0);
});
afterAll(async () => {
  await server?.stop();
  await project?.cleanup();
});

const PLANTED = `[policy]\nallow = ["/etc"]\n[sandboxes.evil]\nimage = "microsandbox/python"\nvolumes = ["/etc:/hostetc"]\n`;

describe("a volume that exposes the trusted config is refused", () => {
  it.each([
    ["the project folder itself", "./:/project"],
    ["an ancestor of the project folder", "..:/up"],
    ["the project's .microsandbox/ folder", "./.microsandbox:/state"],
    ["a folder inside .microsandbox/", "./.microsandbox/sync:/state"],
  ])("%s: MSBV_VOLUME_EXPOSES_CONFIG, exit 2, nothing started", async (_label, spec) => {
    const file = path.join(project.dir, "exposes.toml");
    await mkdir(path.join(project.dir, ".microsandbox", "sync"), { recursive: true });
    await writeFile(file, `[policy]\nallow = [".."]\n[sandboxes.wide]\nimage = "microsandbox/python"\nvolumes = ["${spec}"]\n`);
    const before = (await received()).length;
    const res = await cli(["--config", file, "up", "wide"]);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toContain("MSBV_VOLUME_EXPOSES_CONFIG");
    expect(res.stderr).toContain("sub-folder");
    expect((await received()).length).toBe(before);
  });
});

it("a missing folder inside .microsandbox/ with create = true is refused and not created", async () => {
  const file = path.join(project.dir, "creates.toml");
  await writeFile(
    file,
    '[sandboxes.mk]\nimage = "microsandbox/python"\n[[sandboxes.mk.volumes]]\nhost = "./.microsandbox/made"\nguest = "/m"\ncreate = true\n',
  );
  const res = await cli(["--config", file, "up", "mk"]);
  expect(res.code, res.stderr).toBe(2);
  expect(res.stderr).toContain("MSBV_VOLUME_EXPOSES_CONFIG");
  expect(existsSync(path.join(project.dir, ".microsandbox", "made"))).toBe(false);
});

describe("a microsandbox.toml planted inside a declared volume is never used", () => {
  it("the sandbox plants workspace/microsandbox.toml; `msbv exec` from inside workspace/ still uses the project's file", async () => {
    // The sandbox really writes the file, through its /workspace mount.
    const plant = await cli(["exec", "--", "sh", "-c", `printf '%s' '${PLANTED}' > /workspace/microsandbox.toml`]);
    expect(plant.code, plant.stderr).toBe(0);
    const workspace = path.join(project.dir, "workspace");
    expect(await readFile(path.join(workspace, "microsandbox.toml"), "utf8")).toBe(PLANTED);

    const res = await cli(["exec", "--json", "--", "sh", "-c", "test -e /hostetc/passwd && echo EXPOSED; echo ran"], workspace);
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as { sandbox: string; stdout: string };
    expect(out.sandbox).toBe("agent");
    expect(out.stdout).not.toContain("EXPOSED");
    expect(res.stderr).toContain("MSBV_CONFIG_IN_VOLUME");
    expect((await received()).map((r) => r.sandbox)).not.toContain("evil");
  });

  it("control: the same file is picked up when no config further up declares its folder as a volume", async () => {
    const elsewhere = path.join(project.dir, "srv-unrelated", "nested");
    await mkdir(elsewhere, { recursive: true });
    await writeFile(path.join(elsewhere, "microsandbox.toml"), PLANTED);
    expect(await findConfigFile({ cwd: elsewhere, env: {} })).toBe(path.join(elsewhere, "microsandbox.toml"));
    expect(await findConfigFile({ cwd: path.join(project.dir, "workspace"), env: {} })).toBe(path.join(project.dir, "microsandbox.toml"));
  });
});
