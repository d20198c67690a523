// `msbv stop` on a sandbox started in sync mode: the work inside it must come home before it stops
// (the library's stop() does this; the CLI stops by name from a fresh process, so it must too).
import { mkdir, readFile, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  cliEnv,
  makeProject,
  processesMentioning,
  requireBuiltCli,
  runCli,
  startCliDevServer,
  type CliDevServer,
} from "../../helpers/cli-harness.js";

let project: Awaited<ReturnType<typeof makeProject>>;
let server: CliDevServer;
let env: NodeJS.ProcessEnv;
const cli = (...args: string[]) => runCli(args, { cwd: project.dir, env });

beforeAll(async () => {
  requireBuiltCli();
  project = await makeProject("msbv-cli-sync-");
  const base = cliEnv(project.home);
  server = await startCliDevServer(["--dev", "--path", path.join(project.dir, "srv"), "--allow-root", project.dir], { cwd: project.dir, env: base });
  env = { ...base, MSB_SERVER_URL: server.url };
  // The dev sandbox's root is read-only, so the synced guest folder lives under /home.
  await writeFile(
    path.join(project.dir, "microsandbox.toml"),
    '[server]\nmode = "sync"\n\n[sandboxes.agent]\nimage = "microsandbox/python"\nvolumes = ["./workspace:/home/ws"]\n',
  );
  await mkdir(path.join(project.dir, "workspace"));
  await writeFile(path.join(project.dir, "workspace", "input.txt"), "from host\n");
});

afterAll(async () => {
  const exit = await server?.stop();
  const leftovers = project ? await processesMentioning(project.dir) : [];
  await project?.cleanup();
  expect(exit).toEqual({ code: 0, signal: null });
  expect(leftovers).toEqual([]);
});

it("copies the sandbox's work back to the host, then stops the sandbox", async () => {
  const run = await cli(
    "run",
    "agent",
    "--",
    "print(open('/home/ws/input.txt').read().strip()); _ = open('/home/ws/out.txt', 'w').write('from sandbox\\n')",
  );
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  expect(run.stdout).toContain("from host");
  // Sync mode: nothing is on the host until the copy-back.
  await expect(readFile(path.join(project.dir, "workspace", "out.txt"), "utf8")).rejects.toMatchObject({ code: "ENOENT" });

  const stop = await cli("stop", "agent");
  expect(stop.code).toBe(0);
  expect(await readFile(path.join(project.dir, "workspace", "out.txt"), "utf8")).toBe("from sandbox\n");
  const status = await cli("status", "--json");
  const rows = (JSON.parse(status.stdout) as { sandboxes: { name: string; running: boolean }[] }).sandboxes;
  expect(rows.find((r) => r.name === "agent")?.running).toBe(false);
});
