#!/usr/bin/env zx
// `npm run bench`: runs every benchmark against the built package, prints the table to stdout
// (progress to stderr), and writes docs/bench/results.json, docs/bench/*.svg and docs/benchmarks.md
// from the same results. Options: --quick (few repetitions, output to a temp dir unless --out),
// --out DIR (default: docs/), --only roundtrip,overhead,devserver,scale,memory,sync.
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { argv } from "zx";
import { benchClientOverhead } from "./client-overhead.mjs";
import { benchDevServer } from "./dev-server.mjs";
import { benchRoundTrip } from "./roundtrip.mjs";
import { benchMemory, benchScale } from "./scale.mjs";
import { benchSync } from "./sync.mjs";
import { renderSvg, roundTripSpec, scaleSpec } from "./lib/chart.mjs";
import { computeFigures } from "./lib/figures.mjs";
import { machineInfo } from "./lib/machine.mjs";
import { docsMarkdown, stdoutReport } from "./lib/report.mjs";
import { loadLibrary } from "./lib/sandbox.mjs";
import { cleanupTmp } from "./lib/tmp.mjs";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const quick = Boolean(argv.quick);
const outDir = resolve(argv.out ?? (quick ? join(tmpdir(), "msbv-bench-quick") : join(repoRoot, "docs")));
const only = argv.only ? new Set(String(argv.only).split(",")) : undefined;
const want = (name) => !only || only.has(name);

// Sized so the full run stays well under 10 minutes on 2 cores (see docs/benchmarks.md for timings).
const R = quick
  ? {
      rt: { warmup: 1, reps: 2 },
      sync: { warmup: 0, reps: 1 },
      overhead: { warmup: 20, reps: 50 },
      spawn: { warmup: 1, reps: 5 },
      create: { warmup: 1, reps: 3 },
      warm: { warmup: 20, reps: 50 },
      scale: [
        { concurrency: 1, rounds: 3 },
        { concurrency: 10, rounds: 1 },
        { concurrency: 50, rounds: 1 },
      ],
    }
  : {
      rt: { warmup: 1, reps: 7 },
      sync: { warmup: 1, reps: 3 },
      overhead: { warmup: 100, reps: 500 },
      spawn: { warmup: 3, reps: 30 },
      create: { warmup: 2, reps: 15 },
      warm: { warmup: 100, reps: 500 },
      scale: [
        { concurrency: 1, rounds: 10 },
        { concurrency: 10, rounds: 3 },
        { concurrency: 50, rounds: 2 },
      ],
    };

const t0 = performance.now();
const log = (m) => process.stderr.write(`[bench +${((performance.now() - t0) / 1000).toFixed(1)}s] ${m}\n`);
const startCwd = process.cwd();
let interrupted = false;
process.once("SIGINT", () => {
  interrupted = true;
  log("interrupted: cleaning up");
});

const lib = await loadLibrary();
log(lib.ok ? "library loaded (client + dev server)" : `library incomplete: ${lib.reason} — floors only`);

const sections = {};
const notes = [];
async function section(key, name, fn) {
  if (!want(name) || interrupted) return;
  try {
    sections[key] = await fn();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    log(`${name} failed: ${msg}`);
    sections[key] = { error: msg, notes: [`section failed: ${msg.split("\n")[0].slice(0, 300)}`] };
  } finally {
    process.chdir(startCwd);
  }
}

try {
  await section("roundTrip", "roundtrip", () => benchRoundTrip({ log, lib, reps: R.rt }));
  await section("clientOverhead", "overhead", () => benchClientOverhead({ log, lib, reps: R.overhead }));
  await section("devServer", "devserver", () => benchDevServer({ log, lib, reps: { spawn: R.spawn, create: R.create, warm: R.warm } }));
  await section("scale", "scale", () => benchScale({ log, lib, levels: R.scale }));
  // The largest burst again, with the server's default pool size instead of one sized to the burst.
  await section("scaleDefaultPool", "scale", () => benchScale({ log, lib, levels: R.scale.slice(-1), poolSize: 2 }));
  await section("memory", "memory", () => benchMemory({ log, lib, counts: [1, 50] }));
  await section("sync", "sync", () => benchSync({ log, lib, reps: R.sync }));
} finally {
  await cleanupTmp();
}

const results = {
  generatedAt: new Date().toISOString(),
  elapsedSec: 0,
  quick,
  machine: machineInfo(),
  repetitions: R,
  figures: computeFigures(sections),
  sections,
  notes,
};
if (!lib.ok) notes.push(`library incomplete: ${lib.reason}`);

log("rendering charts");
const rtRows = [];
const methods = [
  ["floor", "floor (host write)"],
  ["mounted", "mounted volume"],
  ["copyOut", "copy-out (tar|base64)"],
];
for (const [sc, label] of [
  ["small", "1,000 × 1 KiB"],
  ["large", "64 MiB"],
]) {
  for (const [key, name] of methods) {
    const s = sections.roundTrip?.[key]?.[sc];
    if (s && Number.isFinite(s.median)) rtRows.push({ scenario: label, method: name, median: s.median, min: s.min, max: s.max });
  }
}
const scaleRows = (sections.scale?.levels ?? []).map((l) => ({
  concurrency: l.concurrency,
  throughput: l.throughputPerSec,
  p50: l.create.median,
  p95: l.create.p95,
}));
await mkdir(join(outDir, "bench"), { recursive: true });
if (rtRows.length) await writeFile(join(outDir, "bench", "roundtrip.svg"), await renderSvg(roundTripSpec(rtRows)));
if (scaleRows.length) await writeFile(join(outDir, "bench", "scale.svg"), await renderSvg(scaleSpec(scaleRows)));

results.elapsedSec = (performance.now() - t0) / 1000;
await writeFile(join(outDir, "bench", "results.json"), `${JSON.stringify(results, null, 2)}\n`);
await writeFile(join(outDir, "benchmarks.md"), docsMarkdown(results));
process.stdout.write(`${stdoutReport(results)}\n`);
log(`wrote ${join(outDir, "bench", "results.json")}, ${join(outDir, "benchmarks.md")} and charts`);
log(`total elapsed ${results.elapsedSec.toFixed(1)} s`);
if (interrupted) process.exitCode = 130;
