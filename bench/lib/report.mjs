// Renders a run's results as markdown: the same text goes to stdout and into docs/benchmarks.md,
// so the docs table always matches the last run.

const f2 = (x) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const ms = (x) => (Number.isFinite(x) ? `${f2(x)} ms` : "–");

function table(head, rows) {
  return [`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

/** @param {ReturnType<import("./figures.mjs").computeFigures>} figures */
export function targetsTable(figures) {
  return table(
    ["Figure", "Value", "Spread (IQR)", "Target", "Result"],
    figures.map((f) => {
      const unit = f.unit === "×" ? "×" : ` ${f.unit}`;
      const shown = f.unit === "failures" ? String(f.value) : f2(f.value);
      const value = f.value === null ? (f.note ?? "–") : `${shown}${unit}`;
      const spread = f.low !== null && f.high !== null ? `${f2(f.low)}–${f2(f.high)}${unit}` : "–";
      const target = !f.target
        ? "–"
        : f.target.limit === 0 && f.target.direction === "max"
          ? `0${unit}`
          : `${f.target.direction === "max" ? "≤" : "≥"} ${f.target.limit}${unit}`;
      const result = f.verdict === "missed" ? "**missed**" : f.verdict;
      return [f.label, value, spread, target, result];
    }),
  );
}

/** One row per measured sample set: median with IQR and min–max. */
export function measurementsTable(sections) {
  const rows = [];
  const add = (name, s) => {
    if (!s) return;
    if (s.failed) rows.push([name, "–", `failed: ${s.failed.replace(/\|/g, "/")}`, "–", "–"]);
    else rows.push([name, String(s.n), ms(s.median), `${f2(s.p25)}–${f2(s.p75)}`, `${f2(s.min)}–${f2(s.max)}`]);
  };
  const rt = sections.roundTrip ?? {};
  for (const [sc, label] of [
    ["small", "1,000 × 1 KiB"],
    ["large", "64 MiB"],
  ]) {
    add(`Round trip ${label}: floor (host write + read)`, rt.floor?.[sc]);
    add(`Round trip ${label}: mounted volume`, rt.mounted?.[sc]);
    add(`Round trip ${label}: copy-out (tar | base64)`, rt.copyOut?.[sc]);
  }
  const syncRoutes = sections.sync?.variants ? Object.entries(sections.sync.variants) : [["", sections.sync]];
  for (const [route, v] of syncRoutes) {
    for (const [sc, label] of [
      ["small", "1,000 × 1 KiB"],
      ["large", "64 MiB"],
      ["random", "64 MiB random"],
    ]) {
      add(`Sync${route ? ` (${route})` : ""} ${label}: syncIn (host → sandbox)`, v?.in?.[sc]);
      add(`Sync${route ? ` (${route})` : ""} ${label}: syncBack (sandbox → host)`, v?.back?.[sc]);
    }
  }
  add('Client: sandbox.run("pass")', sections.clientOverhead?.client);
  add("Client: bare JSON-RPC fetch", sections.clientOverhead?.bareFetch);
  add("Dev server: spawn floor (bwrap + python3 -c pass)", sections.devServer?.spawnFloor);
  add("Dev server: contained spawn (fd binds, uid switch, idmap, seccomp, limits)", sections.devServer?.spawnContained);
  add("Dev server: bwrap + node -e 0 (supervisor start, info)", sections.devServer?.spawnNode);
  add("Dev server: create + first run (default pool)", sections.devServer?.createFirstRun);
  add("Dev server: create + first run (pool off)", sections.devServer?.createFirstRunCold);
  add('Dev server: warm run("pass")', sections.devServer?.warmRun);
  return table(["Measurement", "n", "Median", "IQR (ms)", "Min–max (ms)"], rows);
}

export function scaleTable(scale) {
  if (!scale?.levels?.length) return "_Scale not measured._";
  const t = table(
    ["Concurrent sandboxes", "Lifecycles", "Failures", "Throughput", "Create p50", "Create p95", "Create max"],
    scale.levels.map((l) => [
      String(l.concurrency),
      String(l.total),
      String(l.failures),
      `${f2(l.throughputPerSec)} /s`,
      ms(l.create.p50 ?? l.create.median),
      ms(l.create.p95),
      ms(l.create.max),
    ]),
  );
  const m = scale.memory;
  const mem = m
    ? `\n\nPeak RSS during the scale test: dev server process ${f2(m.serverPeakRssMiB)} MiB; server + all sandbox processes ${f2(m.treePeakRssMiB)} MiB (${m.processesAtPeak} processes at the peak, sampled every 100 ms).`
    : "";
  return t + mem;
}

/** Memory with n sandboxes running (bench/scale.mjs benchMemory). */
export function memoryTable(memory) {
  if (!memory?.levels?.length) return "";
  const alone = memory.serverAlone ? `Dev server alone: RSS ${f2(memory.serverAlone.rssMiB)} MiB, PSS ${f2(memory.serverAlone.pssMiB)} MiB.\n\n` : "";
  return (
    alone +
    table(
      ["Sandboxes running", "Processes", "Server RSS", "Tree RSS", "Tree PSS", "Per sandbox RSS", "Per sandbox PSS"],
      memory.levels.map((l) => [
        String(l.sandboxes),
        String(l.processes),
        `${f2(l.serverRssMiB)} MiB`,
        `${f2(l.treeRssMiB)} MiB`,
        `${f2(l.treePssMiB)} MiB`,
        `${f2(l.perSandboxRssMiB)} MiB`,
        `${f2(l.perSandboxPssMiB)} MiB`,
      ]),
    )
  );
}

/** Everything printed to stdout at the end of a run. */
export function stdoutReport(results) {
  return [
    `## Targets\n\n${targetsTable(results.figures)}`,
    `## Measurements\n\n${measurementsTable(results.sections)}`,
    `## Scale\n\nPool sized to the largest burst (\`--pool-size\` = its concurrency), refilled untimed before each round:\n\n${scaleTable(results.sections.scale)}\n\nThe largest burst with the default pool (2 per image):\n\n${scaleTable(results.sections.scaleDefaultPool)}`,
    results.sections.memory ? `## Memory per sandbox\n\n${memoryTable(results.sections.memory)}` : "",
    notesList(results),
    `Total elapsed: ${results.elapsedSec.toFixed(1)} s`,
  ]
    .filter(Boolean)
    .join("\n\n");
}

function notesList(results) {
  const notes = [...(results.notes ?? [])];
  for (const [name, s] of Object.entries(results.sections)) for (const n of s?.notes ?? []) notes.push(`${name}: ${n}`);
  for (const l of results.sections.scale?.levels ?? []) for (const e of l.firstErrors ?? []) notes.push(`scale ${l.concurrency}: ${e}`);
  const unique = [...new Set(notes)];
  return unique.length ? `## Notes from the run\n\n${unique.map((n) => `- ${n}`).join("\n")}` : "";
}

/** docs/benchmarks.md, generated from the results JSON. */
export function docsMarkdown(results) {
  const m = results.machine;
  return `# Benchmarks

<!-- Generated by \`npm run bench\` (bench/run.mjs) from docs/bench/results.json. Do not edit by hand. -->

Last run: ${results.generatedAt} — total elapsed ${results.elapsedSec.toFixed(1)} s.

Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM; ${m.os}, kernel ${m.kernel}; Node ${m.node}; ${m.bubblewrap}; ${m.python}.

Every figure is a ratio of medians measured in the same run, after warm-up, over several repetitions. The spread
column gives the extremes the ratio takes between the two samples' quartiles (p25–p75); the measurements table
below also gives each sample's min–max. A target that is not reached is marked **missed**.

## Targets

${targetsTable(results.figures)}

## Measurements

${measurementsTable(results.sections)}

## Scale

${scaleTable(results.sections.scale)}

${results.sections.memory ? `## Memory per sandbox\n\n${memoryTable(results.sections.memory)}\n` : ""}
![Workspace round trip](bench/roundtrip.svg)

![Scale](bench/scale.svg)

## Method

- **Round trip.** Sandbox code (Python, in a warm REPL whose data was prepared untimed) writes 1,000 files of 1 KiB
  or one 64 MiB file; then the host reads every byte back and spot-checks the contents. *Floor*: the host writes the
  same bytes itself (Node \`fs\`, buffers prepared untimed) and reads them back. *Mounted*: the sandbox writes into
  \`/workspace\`, a volume bound to a host folder. *Copy-out*: what users do without volumes — the sandbox writes to its
  private \`/tmp\`, \`sh -c "tar -C DIR -cf - . | base64 -w0"\` runs through \`command.run\`, the output travels back as
  JSON lines, and the host decodes and unpacks it (\`tar\` package) before reading back. The dev server keeps at most
  16 MiB of output per command (the legacy server has no cap), so the base64 text is staged in the sandbox and
  fetched in 12 MiB slices (\`tail -c +N | head -c 12M\`): 8 \`command.run\` calls for 64 MiB. The three
  methods alternate rep by rep in rotating order, with an untimed \`sync\` before each rep; no fsync inside the timing.
- **Client overhead.** \`sandbox.run("pass")\` through \`PythonSandbox\` against a bare \`fetch\` of the same
  \`sandbox.repl.run\` JSON-RPC call to the same dev server and sandbox; the two alternate call by call.
- **Dev server.** *Spawn floor*: \`bwrap\` with the runtime's kind of mount layout running \`python3 -c pass\`, with no
  server. *bwrap + node -e 0* (informational) is what the runtime's in-sandbox Node supervisor costs to start.
  *Create + first run*: \`PythonSandbox.create()\` with a workspace volume plus the first \`run("pass")\`.
  *Spawn-per-run* is taken as the spawn floor itself (the cheapest possible fresh sandbox per run), compared with a
  warm \`run("pass")\` in a running sandbox.
- **Scale.** N sandboxes at once, each with its own workspace folder: create, write a file into \`/workspace\`, the host
  checks it, stop. Throughput counts whole lifecycles per second of wall time. Level 1 is repeated sequentially to
  get a distribution.
- **Sync mode** (when the build has it): \`syncIn\` of a host folder into an empty guest folder, and \`syncBack\` of
  files the sandbox wrote into a folder synced in empty, against the dev server on loopback; ms per file is the
  1,000-file median / 1,000, MB/s is 67.1 MB (64 MiB) / the median.
- The dev server runs in its own Node process (started with \`startDevServer({ port: 0, dev: true, projectDir })\`), so
  its memory can be read from \`/proc\` and its event loop is not shared with the client being measured.
${notesList(results) ? `\n${notesList(results)}\n` : ""}`;
}
