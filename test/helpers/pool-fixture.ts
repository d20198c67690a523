import { mkdir, readFile } from "node:fs/promises";
import * as path from "node:path";
import { AttachServer } from "../../src/server/runtime/pool/attach-server.js";
import { attachVolumes, sandboxInit } from "../../src/server/runtime/pool/attach-volumes.js";
import { parseMountinfo } from "../../src/server/runtime/containment/verify-mounts.js";
import { createRuntimeContext } from "../../src/server/runtime/runtime-context.js";
import { SandboxInstance } from "../../src/server/runtime/sandbox-instance.js";
import type { RuntimeVolume } from "../../src/server/runtime/types.js";
import { tempDir } from "./temp-dir.js";

/** One waiting pooled sandbox (server as root), to drive the attach helper directly, past the runtime's own checks. */
export interface PooledForTest extends AsyncDisposable {
  newDir(label: string): Promise<string>;
  attach(volumes: RuntimeVolume[]): Promise<unknown>;
  /** Mount points of the sandbox's init, as it sees them. */
  mountPoints(): Promise<string[]>;
  /** A path inside the sandbox, as the host reaches it (through its init's root). */
  inside(guest: string): Promise<string>;
  /** The sandbox's host uid. */
  uid: number;
  /** The attach helper's pid once it runs. */
  helperPid(): number | undefined;
}

export async function launchPooledForTest(): Promise<PooledForTest> {
  const temp = await tempDir("msbv-pool-");
  const context = await createRuntimeContext({ stateDir: path.join(temp.path, "state") });
  const pooled = await SandboxInstance.launchPooled(context, ".pool-test", "microsandbox/python", undefined);
  const bwrapPid = pooled.connection.bwrapPid;
  const attacher = new AttachServer();
  let counter = 0;
  return {
    async newDir(label) {
      const dir = path.join(temp.path, `${label}-${counter++}`);
      await mkdir(dir);
      return dir;
    },
    attach: (volumes) => attachVolumes(attacher, { name: "attach-test", identity: pooled.identity, bwrapPid }, volumes),
    async inside(guest) {
      return `/proc/${await sandboxInit(bwrapPid)}/root${guest}`;
    },
    uid: pooled.identity.uid,
    helperPid: () => attacher.pid,
    async mountPoints() {
      const init = await sandboxInit(bwrapPid);
      return parseMountinfo(await readFile(`/proc/${init}/mountinfo`, "utf8")).map((entry) => entry.mountPoint);
    },
    async [Symbol.asyncDispose]() {
      try {
        attacher.close();
        await pooled.connection.terminate();
        await pooled.release();
      } finally {
        await temp.remove();
      }
    },
  };
}
