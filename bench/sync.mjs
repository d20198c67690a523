// Sync mode (for servers on another machine): the workspace is copied into the sandbox after start
// (syncIn) and hash-diffed back before stop (syncBack). Measured
// against the dev server on loopback when the build has src/sync; otherwise the report says so.
import { randomBytes } from "node:crypto";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { flushDisk } from "./lib/flush.mjs";
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

// Three ways bytes travel, measured side by side in one run (issue 14):
// before = `channel: "command-serial"`, the command route as it was (1 MiB requests one at a time, 6 MiB parts);
// legacy = `channel: "command"`, what a legacy server gets now (pipelined requests, gzip when it pays);
// fast   = the default against our dev server, its raw file channel (docs/protocol.md#dev-sync-channel).
// The 64 MiB file of the shared workload is a repeating byte pattern (compresses ~300:1), so `random`
// (64 MiB from the OS RNG) shows each route without the help of gzip.
const VARIANTS = [
  { key: "before", channel: "command-serial", scenarios: ["small", "large"] },
  { key: "legacy", channel: "command", scenarios: ["small", "large", "random"] },
  { key: "fast", channel: "auto", scenarios: ["small", "large", "random"] },
];

const PY_RANDOM = `
def _write_random(d):
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/large.bin", "wb") as f:
        f.write(os.urandom(${LARGE_SIZE}))
`;

/** The host side of a scenario: write the source folder, or check what came back. */
function hostSide(s, dir, mode) {
  if (s !== "random") return mode === "write" ? hostWrite(s, dir) : hostReadBack(s, dir);
  if (mode === "write") {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "large.bin"), randomBytes(LARGE_SIZE));
  } else if (statSync(join(dir, "large.bin")).size !== LARGE_SIZE) {
    throw new Error(`read-back mismatch in ${dir}/large.bin`);
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
  const out = {
    available: true,
    variants: {},
    notes: sync.fromRoot ? [] : ["sync functions loaded from dist/sync (not exported from the package root)"],
  };
  try {
    sb = await createSandbox(lib.PythonSandbox, { project, serverUrl: server.url, name: "sync" });
    await runChecked(sb, PY_SETUP + PY_RANDOM);
    for (const v of VARIANTS) {
      const r = { in: {}, back: {} };
      for (const s of v.scenarios) {
        const source = join(project, `source-${v.key}-${s}`);
        hostSide(s, source, "write");
        const guest = `/tmp/sync-${s}`;
        const inSamples = [];
        const backSamples = [];
        const options = { channel: v.channel };
        log(`sync ${v.key} (${v.channel}) ${s}: ${reps.warmup} warm-up + ${reps.reps} reps of syncIn and syncBack`);
        for (let i = 0; i < reps.warmup + reps.reps; i++) {
          // In: everything crosses (guest emptied first, untimed).
          await runChecked(sb, pyClean(guest));
          await flushDisk();
          let t0 = performance.now();
          await sync.syncIn(backend, "sync", [{ host: source, guest }], options);
          const tIn = performance.now() - t0;
          // Back: an empty host folder synced in, the sandbox writes the files, syncBack brings them home.
          await runChecked(sb, pyClean(guest));
          const target = join(project, `back-${v.key}-${s}`);
          await rm(target, { recursive: true, force: true });
          mkdirSync(target, { recursive: true });
          const session = await sync.syncIn(backend, "sync", [{ host: target, guest }], options);
          await runChecked(sb, s === "random" ? `_write_random(${JSON.stringify(guest)})` : pyWrite(s, guest));
          await flushDisk();
          t0 = performance.now();
          const report = await sync.syncBack(backend, session, options);
          const tBack = performance.now() - t0;
          hostSide(s, target, "check");
          if (report.conflicts.length > 0) throw new Error(`syncBack reported ${report.conflicts.length} conflicts`);
          if (i >= reps.warmup) {
            inSamples.push(tIn);
            backSamples.push(tBack);
          }
        }
        r.in[s] = summarize(inSamples);
        r.back[s] = summarize(backSamples);
      }
      const perFile = (x) => x.small.median / SMALL_COUNT;
      const mbps = (x, s) => (x[s] ? LARGE_SIZE / 1e6 / (x[s].median / 1000) : undefined);
      Object.assign(r, {
        msPerFile: perFile(r.back),
        largeMBps: mbps(r.back, "large"),
        randomMBps: mbps(r.back, "random"),
        inMsPerFile: perFile(r.in),
        inLargeMBps: mbps(r.in, "large"),
        inRandomMBps: mbps(r.in, "random"),
      });
      out.variants[v.key] = r;
    }
    // The headline figures are the default route (the file channel); `variants` holds all three.
    Object.assign(out, out.variants.fast);
  } finally {
    await stopAll([sb]);
    await server.close();
  }
  return out;
}
