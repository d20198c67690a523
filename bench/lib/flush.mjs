// Flushes dirty pages to disk before a timed step, without forking the measuring process: a fork
// write-protects that process's whole heap, so every page it writes next faults (about 17 µs a page
// on the bench VM: 16,000 faults, 280 ms, for a 64 MiB download), and that cost would be charged to
// the timed step. One long-lived shell, started on first use, runs `sync` on request instead.
import { spawn } from "node:child_process";

/** @type {import("node:child_process").ChildProcessWithoutNullStreams | undefined} */
let shell;
/** @type {Array<{ resolve: () => void, reject: (e: Error) => void }>} */
const waiting = [];

function start() {
  const child = spawn("sh", [], { stdio: ["pipe", "pipe", "inherit"] });
  let buf = "";
  child.stdout.on("data", (d) => {
    buf += d;
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      buf = buf.slice(nl + 1);
      waiting.shift()?.resolve();
    }
  });
  child.once("exit", (code) => {
    shell = undefined;
    for (const w of waiting.splice(0)) w.reject(new Error(`the flush shell exited (${code})`));
  });
  // The bench process may end while this shell waits for its next request.
  child.unref();
  child.stdin.unref?.();
  child.stdout.unref?.();
  return child;
}

/** Resolves once `sync` has flushed the page cache. */
export function flushDisk() {
  shell ??= start();
  const s = shell;
  return new Promise((resolve, reject) => {
    waiting.push({ resolve, reject });
    s.stdin.write("sync; echo flushed\n");
  });
}
