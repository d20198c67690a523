import { mkdir, readFile, readdir } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { PythonSandbox } from "../../../src/index.js";
import { startSafetyServer, waitUntilEmpty, type SafetyServer } from "../../helpers/safety-fixture.js";

// Load: 50 sandboxes × 20 runs through the public client against the dev server. Every run writes a
// file into its own sandbox's workspace; afterwards all 1000 files must be on the host with the right
// content, no run may have failed and no sandbox process may be left. Starts and stops go 10 at a
// time (2 cores); the runs of all sandboxes interleave. Figures are printed, not asserted.

const SANDBOXES = 50;
const RUNS = 20;
const START_CONCURRENCY = 10;

let s: SafetyServer;
beforeAll(async () => {
  s = await startSafetyServer();
});
afterAll(async () => {
  await s?.close();
});

/** Runs `fn` over `items` with at most `limit` in flight; collects every rejection instead of stopping. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<unknown[]> {
  const failures: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item).catch((e: unknown) => void failures.push(e));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return failures;
}

it(`${SANDBOXES} sandboxes × ${RUNS} runs: 0 failures, every file on the host, no process left`, { timeout: 240_000 }, async () => {
  const ids = Array.from({ length: SANDBOXES }, (_, i) => i);
  for (const i of ids) await mkdir(path.join(s.project, "ws", `sb-${i}`));
  const sandboxes = new Map<number, PythonSandbox>();
  const t0 = performance.now();
  const startFailures = await pool(ids, START_CONCURRENCY, async (i) => {
    const sb = await PythonSandbox.create({
      serverUrl: s.url,
      configPath: s.configPath,
      name: `load-${i}`,
      volumes: [`./ws/sb-${i}:/workspace`],
    });
    sandboxes.set(i, sb);
  });
  const t1 = performance.now();

  let runs = 0;
  const runFailures = await pool(ids, SANDBOXES, async (i) => {
    const sb = sandboxes.get(i);
    if (!sb) throw new Error(`sandbox ${i} did not start`);
    for (let j = 0; j < RUNS; j++) {
      const exec = await sb.run(`with open('/workspace/run-${j}.txt', 'w') as f:\n    _ = f.write('sandbox ${i} run ${j}')`);
      if (exec.hasError()) throw new Error(`sandbox ${i} run ${j}: ${await exec.error()}`);
      runs++;
    }
  });
  const t2 = performance.now();

  const stopFailures = await pool(ids, START_CONCURRENCY, async (i) => {
    await sandboxes.get(i)?.stop();
  });
  const t3 = performance.now();

  let filesOk = 0;
  const wrong: string[] = [];
  for (const i of ids) {
    const dir = path.join(s.project, "ws", `sb-${i}`);
    const names = (await readdir(dir)).sort();
    if (names.length !== RUNS) wrong.push(`sb-${i} has ${names.length} files`);
    for (let j = 0; j < RUNS; j++) {
      const text = await readFile(path.join(dir, `run-${j}.txt`), "utf8").catch(() => "(missing)");
      if (text === `sandbox ${i} run ${j}`) filesOk++;
      else wrong.push(`sb-${i}/run-${j}.txt: ${text}`);
    }
  }
  const leftRunning = await s.runningSandboxes();
  const leftProcesses = await waitUntilEmpty(() => s.sandboxProcesses());
  const failures = startFailures.length + runFailures.length + stopFailures.length;
  const sec = (ms: number) => (ms / 1000).toFixed(2);
  console.log(
    [
      `load: ${SANDBOXES} sandboxes x ${RUNS} runs`,
      `  start (${START_CONCURRENCY} at a time): ${sec(t1 - t0)} s (${(SANDBOXES / ((t1 - t0) / 1000)).toFixed(1)} sandboxes/s)`,
      `  runs: ${runs} in ${sec(t2 - t1)} s = ${(runs / ((t2 - t1) / 1000)).toFixed(1)} runs/s`,
      `  stop (${START_CONCURRENCY} at a time): ${sec(t3 - t2)} s`,
      `  total: ${sec(t3 - t0)} s; failures: ${failures}; files ok: ${filesOk}/${SANDBOXES * RUNS}; processes left: ${leftProcesses.length}`,
    ].join("\n"),
  );
  for (const f of [...startFailures, ...runFailures, ...stopFailures].slice(0, 5)) console.log("failure:", f);

  // On failure, the server's own log says why (the wire only carries the legacy generic 500).
  if (failures > 0)
    console.log(
      s.logs
        .filter((l) => !/-> 200$/.test(l))
        .slice(-40)
        .join("\n"),
    );
  expect(failures).toBe(0);
  expect(runs).toBe(SANDBOXES * RUNS);
  expect(wrong).toEqual([]);
  expect(filesOk).toBe(SANDBOXES * RUNS);
  expect(leftRunning).toEqual([]);
  expect(leftProcesses).toEqual([]);
});
