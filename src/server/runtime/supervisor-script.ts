// The sandbox's main process, run by bubblewrap as `node -e SUPERVISOR_SCRIPT <label> <workdir>`.
// It is the only way in: the host sends newline-delimited JSON requests on its stdin and reads
// JSON events from its stdout. Running commands and REPLs as its children keeps them inside the
// one sandbox (same mounts, /tmp, PID namespace, capability-free), instead of re-creating a
// look-alike sandbox per command with `bwrap` or entering namespaces with `nsenter`, which would
// not drop capabilities the way bubblewrap does.
//
// Requests:  {t:"spawn", id, argv, ctl, credit?, readFile?, writeFile?, parked?}  {t:"write", id, b64}  {t:"kill", id, signal}
//            {t:"raw", id, n} + n raw bytes for the child's fd 3   {t:"end", id} (closes its fd 3)
//            {t:"credit", id, n} (the host takes n more output bytes of a flow-controlled child)
//            {t:"attach", env, workdir}   (pooled start only, once; a failure ends the sandbox)
// A pooled sandbox refuses every spawn before attach except a `parked` REPL driver (ctl required): the
// server starts one while the sandbox waits, and attach hands it the sandbox's environment and workdir
// as a line on its fd 3, {"adopt": {env, cwd}}, ahead of any run the sandbox's user can ask for
// (docs/dev-server.md#pool: which environments keep it).
// Events:    {t:"ready"}  {t:"fatal", message}  {t:"spawned", id, pid}  {t:"spawn-error", id, code, message}
//            {t:"raw", id, fd, n} + n raw bytes of the child's stdout/stderr  {t:"exit", id, code, signal}
//            {t:"ack", id, n} (a whole "raw" frame of n bytes was handed to the child's fd 3)
//            {t:"attached"}  {t:"attach-error", message}
//
// Bulk bytes travel as raw frames (a JSON header line, then exactly n bytes), never as base64 in JSON:
// the sync file channel moves whole archives this way (docs/protocol.md#dev-sync-channel). Flow control
// is per child: the host keeps a window of unacknowledged input, and a child spawned with `credit`
// has its output paused once it has sent that many bytes beyond what the host granted, so neither side
// holds more than a window whatever the other's speed.
//
// A spawn with `readFile: {path, length}` starts no process: the supervisor itself sends up to `length`
// bytes of that regular file as the child's stdout (same frames, credit, kill and exit events). Relaying a
// reader process's pipe cost a fresh 64 KiB buffer and a copy per piece (about 370 ms of this process's CPU
// for 64 MiB); here one reused 1 MiB buffer is read into and written out. The path is opened in the
// sandbox's own mount namespace, as a process it spawned would. Likewise `writeFile: {path, part, size}`:
// the raw input frames are written to the new file `part` (the head | tee | openssl pipeline moved them
// 4-8 KiB at a time); at "end", `part` is renamed to `path` only when exactly `size` bytes came, else
// removed (exit 3, as the shell writer). Their SHA-256 is checked by the dev server as it relays them
// (sandbox-file-stream.ts), on the bytes handed to this writer; it kills the writer on a mismatch, which
// removes the part. Neither is a weaker check than the processes they replace.
//
// Each child is its own process group (detached), so a kill reaches its grandchildren too.
// `ctl` children get a private fd 3 for requests (REPL drivers); stdin is always /dev/null.
// Sandboxed code can reach this process (same uid); that only lets it disturb its own sandbox,
// and the host treats every event as untrusted input.

/**
 * Node flags of the supervisor. Its heap is capped because it lives inside the sandbox's memory limit:
 * uncapped, V8 sized its heap from the whole limit and let garbage from multi-MiB requests (the legacy
 * sync route's base64 argv, about 4 MiB of strings per request) pile up to 250-330 MiB before collecting,
 * which with the sandbox's files in /tmp (tmpfs, charged to the same cgroup) got the supervisor OOM-killed
 * and the sandbox with it (seen in dmesg during bench/sync.mjs). What it really holds is a few MiB.
 */
export const SUPERVISOR_NODE_FLAGS = ["--max-old-space-size=48", "--max-semi-space-size=4"];

export const SUPERVISOR_SCRIPT = String.raw`
"use strict";
const cp = require("node:child_process");
const fs = require("node:fs");
const workdir = process.argv[2];
const children = new Map();
function send(msg) { process.stdout.write(JSON.stringify(msg) + "\n"); }
function sendRaw(id, fd, chunk) {
  // One write (one syscall) per chunk: the header is small, the copy cheaper than a second write.
  process.stdout.write(Buffer.concat([Buffer.from('{"t":"raw","id":' + id + ',"fd":' + fd + ',"n":' + chunk.length + '}\n'), chunk]));
}
process.stdout.on("error", () => process.exit(0));
function killGroup(pid, signal) {
  if (!pid) return;
  try { process.kill(-pid, signal); } catch { try { process.kill(pid, signal); } catch {} }
}
function shutdown() {
  for (const child of children.values()) killGroup(child.proc.pid, "SIGKILL");
  for (const writer of writers.values()) try { fs.unlinkSync(writer.part); } catch {}
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
    // PWD, which bubblewrap sets for its child (--chdir) in a cold sandbox too, after the sandbox's
    // variables (bwrap-args.ts): a user's PWD is overwritten where it stands, or PWD comes last.
    const pwd = process.env.PWD;
    for (const key of Object.keys(process.env)) delete process.env[key];
    for (const [key, value] of Object.entries(msg.env || {})) process.env[key] = String(value);
    if (pwd !== undefined) process.env.PWD = pwd;
    enterWorkdir(String(msg.workdir));
    attached = true;
    const adopt = JSON.stringify({ adopt: { env: process.env, cwd: process.cwd() } }) + "\n";
    for (const id of parked) children.get(id)?.ctl?.write(adopt);
    parked.clear();
    send({ t: "attached" });
  } catch (error) {
    // Fatal, as in a cold start: the host may have sent this attach ahead of a request without waiting
    // for the answer (supervisor-connection.ts), and a parked REPL must never run with the pool's
    // environment and folder.
    send({ t: "attach-error", message: "cannot create or enter the workdir " + msg.workdir + ": " + error.message });
    for (const child of children.values()) killGroup(child.proc.pid, "SIGKILL");
    process.exit(70);
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
// readFile "children": id -> state of the file being sent.
const readers = new Map();
const READ_BYTES = 1024 * 1024;
function readFile(msg) {
  const id = msg.id;
  const path = String(msg.readFile.path);
  const length = msg.readFile.length;
  const credit = Number.isSafeInteger(msg.credit) && msg.credit >= 0 ? msg.credit : null;
  const reader = { fd: -1, left: length, credit, busy: true, killed: false, done: false, buf: Buffer.allocUnsafe(Math.min(READ_BYTES, Math.max(1, length))) };
  readers.set(id, reader);
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is then refused as not a regular file).
  fs.open(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY, (error, fd) => {
    if (error) return readerFailed(id, 2, path + ": " + error.message);
    reader.fd = fd;
    fs.fstat(fd, (error2, stat) => {
      if (error2) return readerFailed(id, 1, path + ": " + error2.message);
      if (!stat.isFile()) return readerFailed(id, 2, path + ": not a regular file");
      send({ t: "spawned", id, pid: process.pid });
      reader.busy = false;
      pump(id);
    });
  });
}
function pump(id) {
  const reader = readers.get(id);
  if (!reader || reader.busy || reader.done) return;
  if (reader.killed) return readerDone(id, null, "SIGKILL");
  if (reader.left === 0) return readerDone(id, 0, null);
  if (reader.credit !== null && reader.credit <= 0) return;
  reader.busy = true;
  fs.read(reader.fd, reader.buf, 0, Math.min(reader.buf.length, reader.left), null, (error, n) => {
    reader.busy = false;
    if (reader.killed) return readerDone(id, null, "SIGKILL");
    if (error) return readerFailed(id, 1, error.message);
    // End of file before length: the file is shorter than asked, which the host sees by the count.
    if (n === 0) return readerDone(id, 0, null);
    reader.left -= n;
    if (reader.credit !== null) reader.credit -= n;
    process.stdout.write('{"t":"raw","id":' + id + ',"fd":1,"n":' + n + '}\n');
    // The write holds the buffer until it is flushed (stdout is a socket, written asynchronously): the next
    // read waits for that and reuses it. A fresh 1 MiB per read cost ~13 us per page on first touch.
    reader.busy = true;
    process.stdout.write(reader.buf.subarray(0, n), () => {
      reader.busy = false;
      pump(id);
    });
  });
}
function readerFailed(id, code, text) {
  sendRaw(id, 2, Buffer.from(text + "\n"));
  readerDone(id, code, null);
}
function readerDone(id, code, signal) {
  const reader = readers.get(id);
  if (!reader || reader.done) return;
  reader.done = true;
  readers.delete(id);
  if (reader.fd >= 0) fs.close(reader.fd, () => {});
  send({ t: "exit", id, code, signal });
}
// writeFile "children": id -> the file being written.
const writers = new Map();
function writeFile(msg) {
  const spec = msg.writeFile;
  const writer = { fd: -1, part: String(spec.part), path: String(spec.path), size: spec.size, mode: spec.mode, mtime: spec.mtime, got: 0, error: null };
  try {
    // O_EXCL | O_NOFOLLOW: a fresh file of our own, never one planted (or linked) at that name.
    const c = fs.constants;
    if (spec.parents === true) fs.mkdirSync(require("node:path").dirname(writer.part), { recursive: true });
    writer.fd = fs.openSync(writer.part, c.O_WRONLY | c.O_CREAT | c.O_EXCL | c.O_NOFOLLOW, 0o666);
  } catch (error) {
    sendRaw(msg.id, 2, Buffer.from(writer.part + ": " + error.message + "\n"));
    send({ t: "exit", id: msg.id, code: 1, signal: null });
    return;
  }
  writers.set(msg.id, writer);
  send({ t: "spawned", id: msg.id, pid: process.pid });
}
function writerTake(writer, bytes) {
  if (writer.error || bytes.length === 0) return;
  writer.got += bytes.length;
  if (writer.got > writer.size) return void (writer.error = "more than the " + writer.size + " bytes announced");
  try {
    for (let at = 0; at < bytes.length; ) at += fs.writeSync(writer.fd, bytes, at, bytes.length - at);
  } catch (error) {
    writer.error = error.message;
  }
}
function writerEnd(id, killed) {
  const writer = writers.get(id);
  if (!writer) return;
  writers.delete(id);
  let problem = killed ? null : writer.error;
  if (!killed && !problem && writer.got !== writer.size) problem = "the input ended after " + writer.got + " of " + writer.size + " bytes";
  try {
    // On the descriptor of our own new file, before it appears: the file never shows another mode or mtime.
    if (!killed && !problem && writer.mode !== undefined) fs.fchmodSync(writer.fd, writer.mode);
    // A Date for a time before 1970: node takes a negative number of seconds to mean "now".
    if (!killed && !problem && writer.mtime !== undefined) fs.futimesSync(writer.fd, Date.now() / 1000, writer.mtime < 0 ? new Date(writer.mtime * 1000) : writer.mtime);
  } catch (error) { problem = error.message; }
  try { fs.closeSync(writer.fd); } catch {}
  if (!killed && !problem) {
    try { fs.renameSync(writer.part, writer.path); } catch (error) { problem = error.message; }
  }
  if (killed || problem) try { fs.unlinkSync(writer.part); } catch {}
  if (problem) sendRaw(id, 2, Buffer.from(writer.path + ": " + problem + "\n"));
  send({ t: "exit", id, code: killed ? null : problem ? 3 : 0, signal: killed ? "SIGKILL" : null });
}
const parked = new Set();
function spawn(msg) {
  const parking = !attached && msg.parked === true && msg.ctl === true && !msg.readFile && !msg.writeFile;
  if (!attached && !parking) {
    send({ t: "spawn-error", id: msg.id, code: "ENOTCONN", message: "the pooled sandbox is not attached yet" });
    return;
  }
  if (msg.readFile && typeof msg.readFile === "object") {
    if (typeof msg.readFile.path !== "string" || !Number.isSafeInteger(msg.readFile.length) || msg.readFile.length < 0 || children.has(msg.id) || readers.has(msg.id)) {
      send({ t: "spawn-error", id: msg.id, code: "EINVAL", message: "readFile needs a path and a length" });
      return;
    }
    return readFile(msg);
  }
  if (msg.writeFile && typeof msg.writeFile === "object") {
    const w = msg.writeFile;
    const badStamp = (w.mode !== undefined && !(Number.isInteger(w.mode) && w.mode >= 0 && w.mode <= 0o777)) || (w.mtime !== undefined && !Number.isFinite(w.mtime));
    if (typeof w.path !== "string" || typeof w.part !== "string" || !Number.isSafeInteger(w.size) || w.size < 0 || badStamp || children.has(msg.id) || writers.has(msg.id)) {
      send({ t: "spawn-error", id: msg.id, code: "EINVAL", message: "writeFile needs a path, a part path and a size" });
      return;
    }
    return writeFile(msg);
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
  const credit = Number.isSafeInteger(msg.credit) && msg.credit >= 0 ? msg.credit : null;
  const child = { proc, ctl: msg.ctl ? proc.stdio[3] : null, open: 2, exit: null, done: false, timer: undefined, credit };
  children.set(msg.id, child);
  if (parking) parked.add(msg.id);
  if (child.ctl) child.ctl.on("error", () => {});
  proc.on("spawn", () => send({ t: "spawned", id: msg.id, pid: proc.pid }));
  proc.on("error", (error) => {
    if (proc.pid !== undefined || child.done) return;
    child.done = true;
    children.delete(msg.id);
    send({ t: "spawn-error", id: msg.id, code: error.code || "EINVAL", message: error.message });
  });
  for (const [fd, stream] of [[1, proc.stdout], [2, proc.stderr]]) {
    stream.on("data", (chunk) => {
      sendRaw(msg.id, fd, chunk);
      if (fd === 1 && child.credit !== null) {
        child.credit -= chunk.length;
        if (child.credit <= 0) stream.pause();
      }
    });
    stream.on("close", () => { child.open -= 1; if (child.open === 0) finish(msg.id); });
  }
  proc.on("exit", (code, signal) => {
    if (proc.pid === undefined) return;
    child.exit = { code, signal };
    if (child.open === 0) finish(msg.id);
    // A background grandchild may keep the pipes open forever; do not wait for it. Output held back
    // for want of credit is not such a case: wait until the host has taken it.
    else {
      const later = () => { child.timer = setTimeout(() => (child.credit !== null && child.credit <= 0 ? later() : finish(msg.id)), 200); };
      later();
    }
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
  } else if (msg.t === "raw") {
    if (Number.isSafeInteger(msg.n) && msg.n >= 0) {
      rawInput = { id: msg.id, left: msg.n, size: msg.n };
      if (msg.n === 0) endRaw();
    }
  } else if (msg.t === "end") {
    if (writers.has(msg.id)) return writerEnd(msg.id, false);
    const child = children.get(msg.id);
    if (child && child.ctl) child.ctl.end();
  } else if (msg.t === "credit") {
    const reader = readers.get(msg.id);
    if (reader && reader.credit !== null && Number.isSafeInteger(msg.n) && msg.n > 0) {
      reader.credit += msg.n;
      return pump(msg.id);
    }
    const child = children.get(msg.id);
    if (child && child.credit !== null && Number.isSafeInteger(msg.n) && msg.n > 0) {
      child.credit += msg.n;
      if (child.credit > 0) child.proc.stdout.resume();
    }
  } else if (msg.t === "kill") {
    const reader = readers.get(msg.id);
    if (reader) {
      reader.killed = true;
      return pump(msg.id);
    }
    if (writers.has(msg.id)) return writerEnd(msg.id, true);
    const child = children.get(msg.id);
    if (!child) return;
    killGroup(child.proc.pid, msg.signal === "SIGINT" ? "SIGINT" : "SIGKILL");
    // The host gave up on this child's output: let what is held back drain, so its exit can be reported.
    if (msg.signal !== "SIGINT" && child.credit !== null) {
      child.credit = null;
      child.proc.stdout.resume();
    }
  }
}
// One acknowledgement per frame, once its last piece was handed over (the pieces are written in order).
// A child that is gone (or never had fd 3) still acknowledges, so the host sees its exit instead of stalling.
function writeRaw(frame, bytes, last) {
  const ack = last ? () => send({ t: "ack", id: frame.id, n: frame.size }) : undefined;
  const writer = writers.get(frame.id);
  if (writer) {
    writerTake(writer, bytes);
    return ack && ack();
  }
  const child = children.get(frame.id);
  if (!child || !child.ctl || child.ctl.destroyed) return ack && ack();
  child.ctl.write(bytes, ack);
}
function endRaw() {
  const frame = rawInput;
  rawInput = null;
  writeRaw(frame, Buffer.alloc(0), true);
}
// Pieces of the current line, joined once when its newline arrives: re-scanning one growing string
// costs time and memory quadratic in the frame size. After a "raw" header the next n bytes are data.
let pending = [];
let rawInput = null;
process.stdin.on("data", (data) => {
  let at = 0;
  while (at < data.length) {
    if (rawInput) {
      const frame = rawInput;
      const take = Math.min(frame.left, data.length - at);
      frame.left -= take;
      if (frame.left === 0) rawInput = null;
      writeRaw(frame, data.subarray(at, at + take), frame.left === 0);
      at += take;
      continue;
    }
    const index = data.indexOf(10, at);
    if (index < 0) {
      pending.push(data.subarray(at));
      break;
    }
    pending.push(data.subarray(at, index));
    const line = Buffer.concat(pending).toString("utf8");
    pending = [];
    at = index + 1;
    handle(line);
  }
});
// The host went away (or closed us on purpose): take every child down with us.
process.stdin.on("end", shutdown);
process.stdin.on("error", shutdown);
send({ t: "ready" });
`;
