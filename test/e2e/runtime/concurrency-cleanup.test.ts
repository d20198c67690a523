import { once } from "node:events";
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { bootTicksNow } from "../../helpers/processes.js";
import {
  createRuntimeFixture,
  pidNamespaces,
  processesInNamespaces,
  processesMentioning,
  sandboxProcessesMentioning,
  type RuntimeFixture,
} from "../../helpers/runtime-fixture.js";
import { startRuntimeChild } from "../../helpers/runtime-child.js";
import { type TempDir, tempDir } from "../../helpers/temp-dir.js";

const SANDBOXES = 20;

async function waitUntilEmpty(probe: () => Promise<number[]>): Promise<number[]> {
  let left = await probe();
  for (let i = 0; i < 100 && left.length > 0; i++) {
    await sleep(50);
    left = await probe();
  }
  return left;
}

describe("bwrap runtime concurrency and process cleanup", () => {
  let fx: RuntimeFixture | undefined;
  let scratch: string | undefined;
  let scratchDir: TempDir | undefined;
  afterAll(async () => {
    await fx?.dispose();
    await scratchDir?.remove();
  });

  it(`starts ${SANDBOXES} sandboxes at once, each with its own workspace, and leaves no process after shutdown`, async () => {
    fx = await createRuntimeFixture();
    const fixture = fx;
    const workspaces = await Promise.all(Array.from({ length: SANDBOXES }, (_, i) => fixture.newDir(`ws${i}`)));
    await Promise.all(workspaces.map((ws, i) => fixture.runtime.start(fixture.spec(`sb${i}`, { volumes: [{ host: ws, guest: "/workspace" }] }))));
    await Promise.all(workspaces.map((_, i) => fixture.runtime.runRepl(`sb${i}`, "python", `open('/workspace/id.txt', 'w').write('sandbox ${i}')`)));
    for (const [i, ws] of workspaces.entries()) {
      expect(await readFile(path.join(ws, "id.txt"), "utf8")).toBe(`sandbox ${i}`);
    }
    // Every sandbox's bwrap mentions the fixture's unique root; their PID namespaces cover the
    // supervisors and REPLs inside, which do not.
    // Waiting pre-started sandboxes (the pool) have namespaces of their own; count the started ones.
    const bwraps = await sandboxProcessesMentioning(fixture.root);
    expect(bwraps.length).toBeGreaterThanOrEqual(SANDBOXES);
    const namespaces = await pidNamespaces(bwraps);
    namespaces.delete(await pidNamespaces([process.pid]).then((set) => [...set][0] ?? ""));
    expect(namespaces.size).toBe(SANDBOXES);
    expect((await processesInNamespaces(namespaces)).length).toBeGreaterThanOrEqual(SANDBOXES * 3);

    const beforeShutdown = await bootTicksNow();
    await fixture.runtime.shutdown();
    for (let i = 0; i < SANDBOXES; i++) expect(fixture.runtime.isRunning(`sb${i}`)).toBe(false);
    expect(await processesMentioning(fixture.root)).toEqual([]);
    expect(await processesInNamespaces(namespaces, beforeShutdown)).toEqual([]);
  });

  it("kills every sandbox when the Node process that runs the runtime dies, and leaks no inherited fd into them", async () => {
    scratchDir = await tempDir("msbv-orphan-");
    scratch = scratchDir.path;
    // The runtime's process inherits fd 200 without close-on-exec, open on the host's "/": the
    // classic chroot escape if it reached a sandbox. (Node itself only marks low fds close-on-exec.)
    const withLeakedFd = "import os, sys\nos.dup2(os.open('/', os.O_RDONLY), 200)\nos.execv(sys.argv[1], sys.argv[1:])";
    const { child, output } = await startRuntimeChild(
      scratch,
      `const runtime = createBwrapRuntime({ stateDir: ${JSON.stringify(path.join(scratch, "state"))} });
await runtime.start({ name: "orphan1", image: "microsandbox/python", volumes: [], envs: [] });
await runtime.start({ name: "orphan2", image: "microsandbox/node", volumes: [], envs: [] });
await runtime.runRepl("orphan1", "python", "import subprocess; p = subprocess.Popen(['sleep', '300'])");
const fds = await runtime.runCommand("orphan1", "ls", ["/proc/self/fd"]);
console.log("fds " + JSON.stringify(fds.output.map((line) => line.text)));
console.log("ready");`,
      ["/usr/bin/python3", "-c", withLeakedFd],
    );
    const seen = output();
    expect(seen).toContain('fds ["0","1","2","3"]');
    const bwraps = await sandboxProcessesMentioning(scratch);
    const namespaces = await pidNamespaces(bwraps);
    namespaces.delete([...(await pidNamespaces([process.pid]))][0] ?? "");
    expect(namespaces.size).toBe(2);
    expect((await processesInNamespaces(namespaces)).length).toBeGreaterThanOrEqual(5);

    const beforeKill = await bootTicksNow();
    child.kill("SIGKILL");
    await once(child, "exit");
    expect(await waitUntilEmpty(() => processesMentioning(scratch as string))).toEqual([]);
    expect(await waitUntilEmpty(() => processesInNamespaces(namespaces, beforeKill))).toEqual([]);
  });
});
