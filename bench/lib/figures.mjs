// Turns raw section results into the headline figures: one ratio (or rate) per target, with its
// spread and a met/missed verdict. Pure: unit-tested in test/unit/bench/figures.test.ts.
import { verdict } from "./stats.mjs";

/**
 * Ratio of medians plus its spread: the extremes the ratio takes between the two samples'
 * quartiles (p25/p75), or min/max when quartiles are absent. Quartiles, because one scheduler
 * hiccup in 500 sub-millisecond calls would otherwise make the min/max range meaningless.
 * @param {{ median: number, min: number, max: number, p25?: number, p75?: number } | undefined} a numerator
 * @param {{ median: number, min: number, max: number, p25?: number, p75?: number } | undefined} b denominator
 */
export function ratioOf(a, b) {
  if (!a || !b || !Number.isFinite(a.median) || !Number.isFinite(b.median)) return undefined;
  const lo = (x) => x.p25 ?? x.min;
  const hi = (x) => x.p75 ?? x.max;
  return { value: a.median / b.median, low: lo(a) / hi(b), high: hi(a) / lo(b) };
}

/**
 * @param {string} id
 * @param {string} label
 * @param {{ value: number, low?: number, high?: number } | undefined} r
 * @param {{ limit: number, direction: "max" | "min", unit: string } | undefined} target
 * @param {string} [note] shown instead of a value when r is undefined
 * @param {string} [unit] unit when there is no target (default ×)
 */
function fig(id, label, r, target, note, unit) {
  return {
    id,
    label,
    value: r?.value ?? null,
    low: r?.low ?? null,
    high: r?.high ?? null,
    unit: target?.unit ?? unit ?? "×",
    target: target ?? null,
    verdict: r === undefined ? "n/a" : target ? verdict(r.value, target) : "info",
    note: r === undefined ? (note ?? "not measured") : (note ?? null),
  };
}

const MAX = (limit, unit = "×") => ({ limit, direction: "max", unit });
const MIN = (limit, unit = "×") => ({ limit, direction: "min", unit });

/**
 * @param {{ roundTrip?: any, clientOverhead?: any, devServer?: any, scale?: any, memory?: any, sync?: any }} s section results
 */
export function computeFigures(s) {
  const rt = s.roundTrip ?? {};
  const ok = (x) => (x && Number.isFinite(x.median) ? x : undefined);
  const out = [
    fig(
      "roundtrip.small.mounted_vs_floor",
      "Round trip 1,000 × 1 KiB: mounted / floor",
      ratioOf(ok(rt.mounted?.small), ok(rt.floor?.small)),
      MAX(1.2),
    ),
    fig("roundtrip.large.mounted_vs_floor", "Round trip 64 MiB: mounted / floor", ratioOf(ok(rt.mounted?.large), ok(rt.floor?.large)), MAX(1.2)),
    fig(
      "roundtrip.large.copyout_vs_mounted",
      "Round trip 64 MiB: copy-out / mounted",
      ratioOf(ok(rt.copyOut?.large), ok(rt.mounted?.large)),
      MIN(10),
      rt.copyOut?.large?.failed ? `copy-out failed: ${rt.copyOut.large.failed}` : undefined,
    ),
    fig(
      "roundtrip.small.copyout_vs_mounted",
      "Round trip 1,000 × 1 KiB: copy-out / mounted",
      ratioOf(ok(rt.copyOut?.small), ok(rt.mounted?.small)),
      undefined,
      rt.copyOut?.small?.failed ? `copy-out failed: ${rt.copyOut.small.failed}` : undefined,
    ),
    fig(
      "client.overhead",
      'Client overhead: run("pass") / bare fetch',
      ratioOf(ok(s.clientOverhead?.client), ok(s.clientOverhead?.bareFetch)),
      MAX(1.1),
    ),
    fig(
      "devserver.create_vs_spawn",
      "Dev server: create + first run / spawn floor (default pool)",
      ratioOf(ok(s.devServer?.createFirstRun), ok(s.devServer?.spawnFloor)),
      MAX(3),
    ),
    fig(
      "devserver.create_cold_vs_spawn",
      "Dev server: create + first run / spawn floor (pool off, every start cold)",
      ratioOf(ok(s.devServer?.createFirstRunCold), ok(s.devServer?.spawnFloor)),
    ),
    fig("devserver.warm_speedup", "Dev server: spawn-per-run / warm run()", ratioOf(ok(s.devServer?.spawnFloor), ok(s.devServer?.warmRun)), MIN(5)),
  ];
  const levels = s.scale?.levels ?? [];
  const one = levels.find((l) => l.concurrency === 1);
  const top = levels.reduce((a, l) => (a && a.concurrency >= l.concurrency ? a : l), undefined);
  const p95 = (l) => (l && Number.isFinite(l.create?.p95) ? { median: l.create.p95, min: l.create.p95, max: l.create.p95 } : undefined);
  const r = ratioOf(p95(top), p95(one));
  out.push(
    fig("scale.p95_create", `Scale: p95 create at ${top?.concurrency ?? 50} / at 1 (pool sized to the burst)`, r && { value: r.value }, MAX(4)),
  );
  // The same burst against the default pool size: what a server started without --pool-size gives.
  const dflt = (s.scaleDefaultPool?.levels ?? []).find((l) => l.concurrency === top?.concurrency);
  const rd = ratioOf(p95(dflt), p95(one));
  out.push(
    fig("scale.p95_create_default_pool", `Scale: p95 create at ${top?.concurrency ?? 50} / at 1 (default pool of 2)`, rd && { value: rd.value }),
  );
  const failures = levels.length > 0 ? levels.reduce((n, l) => n + l.failures, 0) : undefined;
  out.push(
    fig("scale.failures", "Scale: failed lifecycles (all levels)", failures === undefined ? undefined : { value: failures }, MAX(0, "failures")),
  );
  const sync = s.sync;
  const syncNote = sync?.available ? undefined : "sync mode: not available in this build";
  const on = sync?.available === true;
  const val = (v) => (on && Number.isFinite(v) ? { value: v } : undefined);
  out.push(fig("sync.ms_per_file", "Sync mode back (syncBack): amortised ms per small file", val(sync?.msPerFile), MAX(10, "ms/file"), syncNote));
  out.push(fig("sync.mb_per_s", "Sync mode back (syncBack): 64 MiB throughput", val(sync?.largeMBps), MIN(100, "MB/s"), syncNote));
  out.push(fig("sync.in_ms_per_file", "Sync mode in (syncIn): amortised ms per small file", val(sync?.inMsPerFile), MAX(10, "ms/file"), syncNote));
  out.push(fig("sync.in_mb_per_s", "Sync mode in (syncIn): 64 MiB throughput", val(sync?.inLargeMBps), MIN(100, "MB/s"), syncNote));
  // Issue 14: the same figures for each route, side by side (bench/sync.mjs). Informational: the targets
  // above apply to the default route; `before` is the command route as it was, `legacy` what a legacy
  // server gets now, `random` the same 64 MiB without help from gzip.
  const routes = [
    ["before", "before: command route, serial"],
    ["legacy", "legacy server: command route, pipelined + gzip"],
    ["fast", "dev server: file channel"],
  ];
  for (const [key, label] of routes) {
    const v = sync?.variants?.[key];
    if (!v) continue;
    out.push(fig(`sync.${key}.in_mb_per_s`, `Sync ${label}: syncIn 64 MiB`, val(v.inLargeMBps), { limit: 100, direction: "min", unit: "MB/s" }));
    out.push(fig(`sync.${key}.mb_per_s`, `Sync ${label}: syncBack 64 MiB`, val(v.largeMBps), { limit: 100, direction: "min", unit: "MB/s" }));
    if (Number.isFinite(v.inRandomMBps))
      out.push(fig(`sync.${key}.in_random_mb_per_s`, `Sync ${label}: syncIn 64 MiB random`, val(v.inRandomMBps), undefined, undefined, "MB/s"));
    if (Number.isFinite(v.randomMBps))
      out.push(fig(`sync.${key}.random_mb_per_s`, `Sync ${label}: syncBack 64 MiB random`, val(v.randomMBps), undefined, undefined, "MB/s"));
    out.push(
      fig(`sync.${key}.in_ms_per_file`, `Sync ${label}: syncIn ms per small file`, val(v.inMsPerFile), {
        limit: 10,
        direction: "max",
        unit: "ms/file",
      }),
    );
    out.push(
      fig(`sync.${key}.ms_per_file`, `Sync ${label}: syncBack ms per small file`, val(v.msPerFile), { limit: 10, direction: "max", unit: "ms/file" }),
    );
  }
  for (const l of s.memory?.levels ?? []) {
    out.push(
      fig(
        `memory.per_sandbox_pss.${l.sandboxes}`,
        `Memory per sandbox at ${l.sandboxes} running (PSS)`,
        { value: l.perSandboxPssMiB },
        undefined,
        undefined,
        "MiB",
      ),
    );
    out.push(
      fig(
        `memory.per_sandbox_rss.${l.sandboxes}`,
        `Memory per sandbox at ${l.sandboxes} running (RSS)`,
        { value: l.perSandboxRssMiB },
        undefined,
        undefined,
        "MiB",
      ),
    );
    out.push(
      fig(
        `memory.server_rss.${l.sandboxes}`,
        `Dev server process RSS with ${l.sandboxes} running`,
        { value: l.serverRssMiB },
        undefined,
        undefined,
        "MiB",
      ),
    );
  }
  return out;
}
