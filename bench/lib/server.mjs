// Starts/stops the dev server child (server-child.mjs) for one benchmark section.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { procStatusKiB } from "./proc.mjs";

const childScript = fileURLToPath(new URL("./server-child.mjs", import.meta.url));

/**
 * @param {string} projectDir
 * @param {{ poolSize?: number }} [options] pre-started sandboxes per image; default: the server's own default
 * @returns {Promise<{ url: string, pid: number, peakRssKiB(): number | null, poolFilled(): Promise<void>, close(): Promise<void> }>}
 */
export async function startServerProcess(projectDir, options = {}) {
  const args = options.poolSize === undefined ? [] : [String(options.poolSize)];
  const child = spawn(process.execPath, [childScript, projectDir, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    cwd: projectDir,
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  const info = await new Promise((resolve, reject) => {
    let buf = "";
    const onData = (d) => {
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl >= 0) {
        child.stdout.off("data", onData);
        try {
          resolve(JSON.parse(buf.slice(0, nl)));
        } catch (e) {
          reject(new Error(`dev server child printed ${JSON.stringify(buf.slice(0, 200))}: ${e}`));
        }
      }
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) => reject(new Error(`dev server child exited with ${code} before listening:\n${stderr}`)));
  });
  child.stdout.resume();
  const exited = new Promise((r) => child.once("exit", r));
  return {
    url: info.url,
    pid: child.pid,
    peakRssKiB: () => procStatusKiB(child.pid, "VmHWM"),
    /** Resolves once the server's pool holds as many waiting sandboxes as its size (untimed set-up). */
    async poolFilled() {
      for (;;) {
        const { ready, wanted } = await (await fetch(`${info.url}/_dev/pool`)).json();
        if (ready >= wanted) return;
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
