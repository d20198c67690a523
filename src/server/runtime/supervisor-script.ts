// The sandbox's main process, run by bubblewrap as `node -e SUPERVISOR_SCRIPT <label> <workdir>`.
// It is the only way in: the host sends newline-delimited JSON requests on its stdin and reads
// JSON events from its stdout. Running commands and REPLs as its children keeps them inside the
// one sandbox (same mounts, /tmp, PID namespace, capability-free), instead of re-creating a
// look-alike sandbox per command with `bwrap` or entering namespaces with `nsenter`, which would
// not drop capabilities the way bubblewrap does.
//
// Requests:  {t:"spawn", id, argv, ctl}  {t:"write", id, b64}  {t:"kill", id, signal}
//            {t:"attach", env, workdir}   (pooled start only, once)
// Events:    {t:"ready"}  {t:"fatal", message}  {t:"spawned", id, pid}
//            {t:"attached"}  {t:"attach-error", message}
//            {t:"spawn-error", id, code, message}  {t:"data", id, fd, b64}  {t:"exit", id, code, signal}
//
// Each child is its own process group (detached), so a kill reaches its grandchildren too.
// `ctl` children get a private fd 3 for requests (REPL drivers); stdin is always /dev/null.
// Sandboxed code can reach this process (same uid); that only lets it disturb its own sandbox,
// and the host treats every event as untrusted input.

export const SUPERVISOR_SCRIPT = String.raw`
"use strict";
const cp = require("node:child_process");
const fs = require("node:fs");
const workdir = process.argv[2];
const children = new Map();
function send(msg) { process.stdout.write(JSON.stringify(msg) + "\n"); }
process.stdout.on("error", () => process.exit(0));
function killGroup(pid, signal) {
  if (!pid) return;
  try { process.kill(-pid, signal); } catch { try { process.kill(pid, signal); } catch {} }
}
function shutdown() {
  for (const child of children.values()) killGroup(child.proc.pid, "SIGKILL");
  process.exit(0);
}
// $HOME exists as in the upstream images even when the workdir lies elsewhere (Python's
// expanduser("~"), Node's os.homedir()); where it cannot be made (read-only), runs still go on.
function enterWorkdir(dir) {
  try { if (process.env.HOME) fs.mkdirSync(process.env.HOME, { recursive: true }); } catch {}
  fs.mkdirSync(dir, { recursive: true });
  process.chdir(dir);
}
let attached = workdir !== "";
if (attached) {
  try {
    enterWorkdir(workdir);
  } catch (error) {
    send({ t: "fatal", message: "cannot create or enter the workdir " + workdir + ": " + error.message });
    process.exit(70);
  }
}
function attach(msg) {
  if (attached) return send({ t: "attach-error", message: "already attached" });
  try {
    // Children inherit process.env: the pooled base environment is replaced as a whole, except
    // PWD, which bubblewrap sets for its child (--chdir) in a cold sandbox too.
    const pwd = process.env.PWD;
    for (const key of Object.keys(process.env)) delete process.env[key];
    if (pwd !== undefined) process.env.PWD = pwd;
    for (const [key, value] of Object.entries(msg.env || {})) process.env[key] = String(value);
    enterWorkdir(String(msg.workdir));
    attached = true;
    send({ t: "attached" });
  } catch (error) {
    send({ t: "attach-error", message: "cannot create or enter the workdir " + msg.workdir + ": " + error.message });
  }
}
function finish(id) {
  const child = children.get(id);
  if (!child || child.done || !child.exit) return;
  child.done = true;
  clearTimeout(child.timer);
  children.delete(id);
  send({ t: "exit", id, code: child.exit.code, signal: child.exit.signal });
}
function spawn(msg) {
  if (!attached) {
    send({ t: "spawn-error", id: msg.id, code: "ENOTCONN", message: "the pooled sandbox is not attached yet" });
    return;
  }
  if (!Array.isArray(msg.argv) || msg.argv.length === 0) {
    send({ t: "spawn-error", id: msg.id, code: "EINVAL", message: "empty argv" });
    return;
  }
  const stdio = msg.ctl ? ["ignore", "pipe", "pipe", "pipe"] : ["ignore", "pipe", "pipe"];
  let proc;
  try {
    proc = cp.spawn(String(msg.argv[0]), msg.argv.slice(1).map(String), { stdio, detached: true });
  } catch (error) {
    send({ t: "spawn-error", id: msg.id, code: error.code || "EINVAL", message: error.message });
    return;
  }
  const child = { proc, ctl: msg.ctl ? proc.stdio[3] : null, open: 2, exit: null, done: false, timer: undefined };
  children.set(msg.id, child);
  if (child.ctl) child.ctl.on("error", () => {});
  proc.on("spawn", () => send({ t: "spawned", id: msg.id, pid: proc.pid }));
  proc.on("error", (error) => {
    if (proc.pid !== undefined || child.done) return;
    child.done = true;
    children.delete(msg.id);
    send({ t: "spawn-error", id: msg.id, code: error.code || "EINVAL", message: error.message });
  });
  for (const [fd, stream] of [[1, proc.stdout], [2, proc.stderr]]) {
    stream.on("data", (chunk) => send({ t: "data", id: msg.id, fd, b64: chunk.toString("base64") }));
    stream.on("close", () => { child.open -= 1; if (child.open === 0) finish(msg.id); });
  }
  proc.on("exit", (code, signal) => {
    if (proc.pid === undefined) return;
    child.exit = { code, signal };
    if (child.open === 0) finish(msg.id);
    // A background grandchild may keep the pipes open forever; do not wait for it.
    else child.timer = setTimeout(() => finish(msg.id), 200);
  });
}
function handle(line) {
  let msg;
  try { msg = JSON.parse(line); } catch { return; }
  if (!msg || typeof msg !== "object") return;
  if (msg.t === "spawn") spawn(msg);
  else if (msg.t === "attach") attach(msg);
  else if (msg.t === "write") {
    const child = children.get(msg.id);
    if (child && child.ctl) child.ctl.write(Buffer.from(String(msg.b64), "base64"));
  } else if (msg.t === "kill") {
    const child = children.get(msg.id);
    if (child) killGroup(child.proc.pid, msg.signal === "SIGINT" ? "SIGINT" : "SIGKILL");
  }
}
// Pieces of the current line, joined once when its newline arrives: re-scanning one growing string
// costs time and memory quadratic in the frame size (a sync upload frame is megabytes).
let pending = [];
process.stdin.setEncoding("utf8");
process.stdin.on("data", (data) => {
  let start = 0;
  for (let index = data.indexOf("\n"); index >= 0; index = data.indexOf("\n", start)) {
    pending.push(data.slice(start, index));
    const line = pending.join("");
    pending = [];
    start = index + 1;
    handle(line);
  }
  if (start < data.length) pending.push(data.slice(start));
});
// The host went away (or closed us on purpose): take every child down with us.
process.stdin.on("end", shutdown);
process.stdin.on("error", shutdown);
send({ t: "ready" });
`;
