import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PythonSandbox } from "../../../src/index.js";
import { errorText, rawRpc } from "../../helpers/raw-rpc.js";
import { MODES, py, startContainmentServer, type ContainmentServer } from "./containment-fixture.js";

// A warm sandbox B (started once with `./ws/sub:/data`, then stopped) is restarted later with the
// same config, or over raw JSON-RPC with no config at all (the server re-reads its Sandboxfile
// entry). Meanwhile sandbox A, which mounts `./ws`, replaced `ws/sub` with a symlink to a folder of
// its choice (or made `ws` lead there through a middle link). Every restart must be refused; the
// folder A chose is never mounted.

describe.each(MODES)("warm restart after the volume's folder became a symlink (server as %s)", (mode) => {
  let s: ContainmentServer;

  beforeAll(async () => {
    s = await startContainmentServer(mode);
    const ws = await s.folder("ws");
    const secret = await s.folder("secret");
    await mkdir(path.join(ws, "sub", "deep"), { recursive: true });
    await writeFile(path.join(ws, "sub", "deep", "marker"), "GOOD");
    await mkdir(path.join(secret, "deep"), { recursive: true });
    await writeFile(path.join(secret, "marker"), "SECRET");
    await writeFile(path.join(secret, "deep", "marker"), "SECRET");
    await promisify(execFile)("chown", ["-R", "-h", `${s.uid}:${s.gid}`, s.project]);
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  it("client create() and a config-less raw start of the stored entry are refused; the secret is never mounted", async () => {
    const b1 = await s.create("warm-leaf", { volumes: ["./ws/sub:/data"] });
    const b2 = await s.create("warm-middle", { volumes: ["./ws/sub/deep:/data"] });
    expect((await py(b2, "print(open('/data/marker').read())")).trim()).toBe("GOOD");
    await Promise.all([b1.stop(), b2.stop()]);
    const a = await s.create("warm-a", { volumes: ["./ws:/workspace"] });
    await py(a, "import os, shutil\nshutil.rmtree('/workspace/sub')\nos.symlink('../secret', '/workspace/sub')");
    await a.stop();

    for (const [name, volume] of [
      ["warm-leaf", "./ws/sub:/data"],
      ["warm-middle", "./ws/sub/deep:/data"],
    ] as const) {
      const viaClient = await PythonSandbox.create({ serverUrl: s.url, configPath: s.configPath, name, volumes: [volume] }).then(
        async (sb) => {
          const text = (await py(sb, "print(open('/data/marker').read())")).trim();
          await sb.stop();
          return `started: ${text}`;
        },
        (e: unknown) => `refused: ${String(e)}`,
      );
      expect(viaClient, name).toMatch(/^refused: .*symlink/);
      // No config: the server starts the entry it stored while the folder was real.
      const stored = await rawRpc(s.url, "sandbox.start", { sandbox: name });
      expect(stored.status, `${name}: ${JSON.stringify(stored.body)}`).not.toBe(200);
      expect(errorText(stored) + JSON.stringify(stored.body)).not.toContain("SECRET");
      const probe = await rawRpc(s.url, "sandbox.command.run", { sandbox: name, command: "cat", args: ["/data/marker"] });
      expect(JSON.stringify(probe.body)).not.toContain("SECRET");
    }
  }, 120_000);
});
