import { mkdir, readFile } from "node:fs/promises";
import * as path from "node:path";
import { getPriority } from "node:os";
import { AttachServer, type AttachRequest } from "../../src/server/runtime/pool/attach-server.js";
import { openHostDirNoFollow } from "../../src/server/runtime/containment/open-host-dir.js";
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
  /** A request exactly as the runtime would send it for `volumes` (their folders held open until `done`), to be tampered with. */
  rawRequest(volumes: RuntimeVolume[]): Promise<{ spec: AttachRequest; done(): Promise<void> }>;
  /** Sends `spec` to the helper as is, past attachVolumes. */
  send(spec: AttachRequest): Promise<void>;
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
    async rawRequest(volumes) {
      const opened = await Promise.all(volumes.map((volume) => openHostDirNoFollow(volume.host, `volume at ${volume.guest}`)));
      const spec: AttachRequest = {
        pid: await sandboxInit(bwrapPid),
        bwrapPid: bwrapPid as number,
        uid: pooled.identity.uid,
        gid: pooled.identity.gid,
        hostname: "attach-test",
        renice: [],
        nice: getPriority(),
        mounts: volumes.map((volume, index) => {
          const dir = opened[index]!;
          const fdPath = `/proc/${process.pid}/fd/${dir.handle.fd}`;
          return {
            fdPath,
            dev: dir.dev,
            ino: dir.ino,
            guest: volume.guest,
            readonly: volume.readonly === true,
            ownerUid: dir.uid,
            ownerGid: dir.gid,
          };
        }),
      };
      return { spec, done: async () => void (await Promise.all(opened.map((dir) => dir.handle.close()))) };
    },
    send: (spec) => attacher.request("attach-test", spec),
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
