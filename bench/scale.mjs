// Scale: N sandboxes at once, each with its own workspace volume: create, write a file into the
// workspace, host checks it, stop. Reports throughput (full lifecycles per second), p50/p95 create
// latency, failures, and the dev server's peak memory.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { sampleTreeRss } from "./lib/proc.mjs";
import { createSandbox, newProject, runChecked } from "./lib/sandbox.mjs";
import { startServerProcess } from "./lib/server.mjs";
import { summarize } from "./lib/stats.mjs";

/**
 * One lifecycle; returns the create latency in ms or throws.
 * @param {any} lib @param {string} project @param {string} url @param {string} name
 */
async function lifecycle(lib, project, url, name) {
  const t0 = performance.now();
  const sb = await createSandbox(lib.PythonSandbox, { project, serverUrl: url, name, workspaces: [name] });
  const createMs = performance.now() - t0;
  try {
    await runChecked(sb, `open("/workspace/hello.txt", "w").write(${JSON.stringify(name)})`);
    const got = await readFile(join(project, name, "hello.txt"), "utf8");
    if (got !== name) throw new Error(`workspace of ${name} holds ${JSON.stringify(got)}`);
  } finally {
    await sb.stop();
  }
  return createMs;
}

/**
 * @param {{ log: (m: string) => void, lib: any, levels: { concurrency: number, rounds: number }[] }} ctx
 */
export async function benchScale(ctx) {
  const { log, lib, levels } = ctx;
  if (!lib.ok) return { levels: [], notes: [`not measured: ${lib.reason}`] };
  const project = await newProject("scale");
  const server = await startServerProcess(project);
  const rss = sampleTreeRss(server.pid, 100);
  const out = { levels: [], notes: [] };
  try {
    // Warm-up: one lifecycle so first-use costs (imports, page cache) are not charged to level 1.
    await lifecycle(lib, project, server.url, "warmup");
    for (const { concurrency, rounds } of levels) {
      const creates = [];
      const errors = [];
      let wallMs = 0;
      for (let r = 0; r < rounds; r++) {
        log(`scale: ${concurrency} concurrent sandboxes, round ${r + 1}/${rounds}`);
        const t0 = performance.now();
        const settled = await Promise.allSettled(
          Array.from({ length: concurrency }, (_, i) => lifecycle(lib, project, server.url, `c${concurrency}-r${r}-s${i}`)),
        );
        wallMs += performance.now() - t0;
        for (const s of settled) {
          if (s.status === "fulfilled") creates.push(s.value);
          else errors.push(String(s.reason instanceof Error ? s.reason.message : s.reason).slice(0, 200));
        }
      }
      const total = concurrency * rounds;
      out.levels.push({
        concurrency,
        rounds,
        total,
        failures: errors.length,
        firstErrors: [...new Set(errors)].slice(0, 3),
        throughputPerSec: (total - errors.length) / (wallMs / 1000),
        wallMs,
        create: summarize(creates),
      });
    }
  } finally {
    const tree = rss.stop();
    out.memory = { serverPeakRssMiB: (server.peakRssKiB() ?? Number.NaN) / 1024, treePeakRssMiB: tree.peakKiB / 1024, processesAtPeak: tree.processesAtPeak };
    await server.close();
  }
  return out;
}
