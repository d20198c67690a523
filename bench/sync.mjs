// Sync mode (for servers on another machine): the workspace is copied into the sandbox after start
// (syncIn) and hash-diffed back before stop (syncBack), through the legacy command API. Measured
// against the dev server on loopback when the build has src/sync; otherwise the report says so.
import { execFileSync } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { createSandbox, newProject, runChecked, stopAll } from "./lib/sandbox.mjs";
import { startServerProcess } from "./lib/server.mjs";
import { summarize } from "./lib/stats.mjs";
import { hostReadBack, hostWrite, LARGE_SIZE, PY_SETUP, pyClean, pyWrite, SMALL_COUNT } from "./lib/workload.mjs";

const NOT_AVAILABLE = { available: false, notes: ["sync mode: not available in this build"] };

/** syncIn/syncBack from the package root; older builds had them only under dist/sync. */
async function loadSync() {
  try {
    const root = await import("microsandbox-volumes");
    if (typeof root.syncIn === "function" && typeof root.syncBack === "function") {
      return { syncIn: root.syncIn, syncBack: root.syncBack, RpcBackend: root.RpcBackend, fromRoot: true };
    }
    const mod = await import(new URL("../dist/sync/index.js", import.meta.url).href);
    if (typeof mod.syncIn !== "function" || typeof mod.syncBack !== "function") return undefined;
    return { syncIn: mod.syncIn, syncBack: mod.syncBack, RpcBackend: root.RpcBackend, fromRoot: false };
  } catch {
    return undefined;
  }
}

/**
 * @param {{ log: (m: string) => void, lib: any, reps: { warmup: number, reps: number } }} ctx
 */
export async function benchSync(ctx) {
  const { log, lib, reps } = ctx;
  const sync = lib.ok ? await loadSync() : undefined;
  if (!sync) return NOT_AVAILABLE;
  const project = await newProject("sync");
  const server = await startServerProcess(project);
  const backend = new sync.RpcBackend({ url: server.url });
  let sb;
  const out = { available: true, in: {}, back: {}, notes: sync.fromRoot ? [] : ["sync functions loaded from dist/sync (not exported from the package root)"] };
  try {
    sb = await createSandbox(lib.PythonSandbox, { project, serverUrl: server.url, name: "sync" });
    await runChecked(sb, PY_SETUP);
    for (const s of /** @type {const} */ (["small", "large"])) {
      const source = join(project, `source-${s}`);
      hostWrite(s, source);
      const guest = `/tmp/sync-${s}`;
      const inSamples = [];
      const backSamples = [];
      log(`sync ${s}: ${reps.warmup} warm-up + ${reps.reps} reps of syncIn and syncBack`);
      for (let i = 0; i < reps.warmup + reps.reps; i++) {
        // In: everything crosses (guest emptied first, untimed).
        await runChecked(sb, pyClean(guest));
        execFileSync("sync");
        let t0 = performance.now();
        await sync.syncIn(backend, "sync", [{ host: source, guest }]);
        const tIn = performance.now() - t0;
        // Back: an empty host folder synced in, the sandbox writes the files, syncBack brings them home.
        await runChecked(sb, pyClean(guest));
        const target = join(project, `back-${s}`);
        await rm(target, { recursive: true, force: true });
        hostWrite(s, target);
        await rm(target, { recursive: true, force: true });
        execFileSync("mkdir", ["-p", target]);
        const session = await sync.syncIn(backend, "sync", [{ host: target, guest }]);
        await runChecked(sb, pyWrite(s, guest));
        execFileSync("sync");
        t0 = performance.now();
        const report = await sync.syncBack(backend, session);
        const tBack = performance.now() - t0;
        hostReadBack(s, target);
        if (report.conflicts.length > 0) throw new Error(`syncBack reported ${report.conflicts.length} conflicts`);
        if (i >= reps.warmup) {
          inSamples.push(tIn);
          backSamples.push(tBack);
        }
      }
      out.in[s] = summarize(inSamples);
      out.back[s] = summarize(backSamples);
    }
    const perFile = (x) => x.small.median / SMALL_COUNT;
    const mbps = (x) => LARGE_SIZE / 1e6 / (x.large.median / 1000);
    out.msPerFile = perFile(out.back);
    out.largeMBps = mbps(out.back);
    out.inMsPerFile = perFile(out.in);
    out.inLargeMBps = mbps(out.in);
  } finally {
    await stopAll([sb]);
    await server.close();
  }
  return out;
}
