// Dev server: create + first run vs the spawn floor (bubblewrap + interpreter start, no server),
// and warm run() vs spawning a fresh sandboxed interpreter per run.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createSandbox, newProject, runChecked, stopAll } from "./lib/sandbox.mjs";
import { startServerProcess } from "./lib/server.mjs";
import { spawnNode, spawnPython, spawnPythonContained } from "./lib/spawn-floor.mjs";
import { summarize, timeRepeated } from "./lib/stats.mjs";

/**
 * @param {{ log: (m: string) => void, lib: any, reps: { spawn: { warmup: number, reps: number }, create: { warmup: number, reps: number }, warm: { warmup: number, reps: number } } }} ctx
 */
export async function benchDevServer(ctx) {
  const { log, lib, reps } = ctx;
  const project = await newProject("devserver");
  const ws = join(project, "floor-ws");
  await mkdir(ws, { recursive: true });

  log(`dev server: spawn floor (bwrap + python3 -c pass), ${reps.spawn.reps} reps`);
  const out = { spawnFloor: summarize(await timeRepeated({ ...reps.spawn, fn: () => spawnPython(ws, "pass") })), notes: [] };
  // The same start through the containment the runtime adds (fd binds, uid switch, idmap as root,
  // seccomp, limits): its cost next to the floor above.
  log(`dev server: contained spawn (fd binds, uid switch, idmap, seccomp, limits + python3 -c pass), ${reps.spawn.reps} reps`);
  out.spawnContained = summarize(await timeRepeated({ ...reps.spawn, fn: () => spawnPythonContained(ws, "pass") }));
  // Informational: the runtime starts a Node supervisor inside each sandbox before the REPL.
  log(`dev server: bwrap + node -e 0 (supervisor start cost), ${reps.spawn.reps} reps`);
  out.spawnNode = summarize(await timeRepeated({ ...reps.spawn, fn: () => spawnNode(ws) }));
  if (!lib.ok) {
    out.notes.push(`create/warm not measured: ${lib.reason}`);
    return out;
  }

  // Create + first run as users get it (server as root: the pool's default size, refilled untimed
  // between reps, so every rep takes a waiting sandbox), then with the pool off (every start cold).
  out.createFirstRun = await createFirstRun({ ...ctx, project, poolSize: undefined, label: "pooled" });
  out.createFirstRunCold = await createFirstRun({ ...ctx, project, poolSize: 0, label: "cold" });

  const server = await startServerProcess(project);
  const live = [];
  try {
    const sb = await createSandbox(lib.PythonSandbox, { project, serverUrl: server.url, name: "warm", workspaces: ["ws-warm"] });
    live.push(sb);
    log(`dev server: warm run("pass"), ${reps.warm.reps} reps`);
    out.warmRun = summarize(await timeRepeated({ ...reps.warm, fn: () => runChecked(sb, "pass") }));
  } finally {
    await stopAll(live);
    await server.close();
  }
  return out;
}

/** Create (with a workspace volume) + first run("pass"), on a server of its own with `poolSize`. */
async function createFirstRun({ log, lib, reps, project, poolSize, label }) {
  const server = await startServerProcess(project, poolSize === undefined ? {} : { poolSize });
  const live = [];
  try {
    log(`dev server: create + first run (${label}), ${reps.create.reps} reps`);
    return summarize(
      await timeRepeated({
        ...reps.create,
        before: () => server.poolFilled(),
        fn: async (i) => {
          const sb = await createSandbox(lib.PythonSandbox, {
            project,
            serverUrl: server.url,
            name: `${label}-${i}`,
            workspaces: [`ws-${label}-${i}`],
          });
          live.push(sb);
          await runChecked(sb, "pass");
        },
        after: async () => stopAll(live.splice(0)),
      }),
    );
  } finally {
    await stopAll(live);
    await server.close();
  }
}
