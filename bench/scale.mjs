// Scale: N sandboxes at once, each with its own workspace volume: create, write a file into the
// workspace, host checks it, stop. Reports throughput (full lifecycles per second), p50/p95 create
// latency, failures, and the dev server's peak memory.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { procPssKiB, procStatusKiB, sampleTreeRss, treeMemory } from "./lib/proc.mjs";
import { createSandbox, newProject, runChecked, stopAll } from "./lib/sandbox.mjs";
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
  // The pool sized to the largest burst (issue 14: a pool hides create cost from a burst it can
  // cover), refilled untimed before each round (ctx.poolSize overrides, e.g. the default size).
  const burst = Math.max(...levels.map((l) => l.concurrency));
  const server = await startServerProcess(project, { poolSize: ctx.poolSize ?? burst });
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
        await server.poolFilled();
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
    out.memory = {
      serverPeakRssMiB: (server.peakRssKiB() ?? Number.NaN) / 1024,
      treePeakRssMiB: tree.peakKiB / 1024,
      processesAtPeak: tree.processesAtPeak,
    };
    await server.close();
  }
  return out;
}

/**
 * Memory per running sandbox: the dev server alone, then with `n` idle sandboxes (each has run Python
 * once, so its supervisor and REPL exist), for each n. Per sandbox = (tree − server alone) / n, as RSS and
 * as PSS (shared pages split, the fair figure when many sandboxes map the same binaries).
 * @param {{ log: (m: string) => void, lib: any, counts: number[] }} ctx
 */
export async function benchMemory(ctx) {
  const { log, lib, counts } = ctx;
  if (!lib.ok) return { levels: [], notes: [`not measured: ${lib.reason}`] };
  const project = await newProject("memory");
  // Pool off: the figures are running sandboxes only, not the waiting ones a pool adds.
  const server = await startServerProcess(project, { poolSize: 0 });
  const out = { levels: [], notes: [] };
  try {
    await settle();
    const base = treeMemory(server.pid);
    out.serverAlone = { rssMiB: base.rssKiB / 1024, pssMiB: base.pssKiB / 1024 };
    for (const n of counts) {
      log(`memory: ${n} sandboxes running`);
      const sandboxes = [];
      try {
        // In small groups: the point is memory while they run, not create latency.
        for (let i = 0; i < n; i += 10) {
          const group = await Promise.all(
            Array.from({ length: Math.min(10, n - i) }, (_, k) =>
              createSandbox(lib.PythonSandbox, { project, serverUrl: server.url, name: `m${n}-${i + k}` }),
            ),
          );
          sandboxes.push(...group);
          await Promise.all(group.map((sb) => runChecked(sb, "pass")));
        }
        await settle();
        const m = treeMemory(server.pid);
        const self = { rssKiB: procStatusKiB(server.pid, "VmRSS") ?? Number.NaN, pssKiB: procPssKiB(server.pid) ?? Number.NaN };
        out.levels.push({
          sandboxes: n,
          processes: m.processes,
          treeRssMiB: m.rssKiB / 1024,
          treePssMiB: m.pssKiB / 1024,
          serverRssMiB: self.rssKiB / 1024,
          serverPssMiB: self.pssKiB / 1024,
          perSandboxRssMiB: (m.rssKiB - base.rssKiB) / 1024 / n,
          perSandboxPssMiB: (m.pssKiB - base.pssKiB) / 1024 / n,
        });
      } finally {
        await stopAll(sandboxes);
      }
    }
  } finally {
    await server.close();
  }
  return out;
}

/** Lets the processes finish starting and the kernel settle page accounting before a reading. */
const settle = () => new Promise((r) => setTimeout(r, 500));
