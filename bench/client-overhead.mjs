// Client overhead: `sandbox.run("pass")` through PythonSandbox vs the same JSON-RPC call made with
// a bare fetch to the same dev server and sandbox. Calls alternate so drift hits both equally.
import { createSandbox, newProject, stopAll } from "./lib/sandbox.mjs";
import { startServerProcess } from "./lib/server.mjs";
import { summarize } from "./lib/stats.mjs";

/**
 * @param {{ log: (m: string) => void, lib: any, reps: { warmup: number, reps: number } }} ctx
 */
export async function benchClientOverhead(ctx) {
  const { log, lib, reps } = ctx;
  if (!lib.ok) return { notes: [`not measured: ${lib.reason}`] };
  const project = await newProject("overhead");
  const server = await startServerProcess(project);
  let sb;
  try {
    sb = await createSandbox(lib.PythonSandbox, { project, serverUrl: server.url, name: "overhead" });
    const rpcUrl = `${server.url.replace(/\/$/, "")}/api/v1/rpc`;
    let id = 0;
    const bare = async () => {
      const res = await fetch(rpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          method: "sandbox.repl.run",
          id: ++id,
          params: { sandbox: "overhead", namespace: "default", language: "python", code: "pass" },
        }),
      });
      const body = await res.json();
      if (res.status !== 200 || !body.result) throw new Error(`bare fetch: HTTP ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
    };
    const client = async () => {
      const ex = await sb.run("pass");
      if (ex.hasError()) throw new Error(`client run: ${await ex.error()}`);
    };
    log(`client overhead: ${reps.warmup} warm-up + ${reps.reps} alternating pairs`);
    const c = [];
    const b = [];
    for (let i = 0; i < reps.warmup + reps.reps; i++) {
      // Alternate which goes first so neither always follows the other.
      const order =
        i % 2 === 0
          ? [
              [client, c],
              [bare, b],
            ]
          : [
              [bare, b],
              [client, c],
            ];
      for (const [fn, into] of order) {
        const t0 = performance.now();
        await fn();
        const dt = performance.now() - t0;
        if (i >= reps.warmup) into.push(dt);
      }
    }
    return { client: summarize(c), bareFetch: summarize(b), notes: [] };
  } finally {
    await stopAll([sb]);
    await server.close();
  }
}
