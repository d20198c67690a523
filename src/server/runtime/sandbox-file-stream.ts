import { setTimeout as sleep } from "node:timers/promises";
import type { ChildHandlers, ChildRef } from "./supervisor-connection.js";
import type { SandboxRuntime } from "./types.js";

// The sync file channel's sandbox side (docs/protocol.md#dev-sync-channel). Bytes reach the sandbox's
// files only through a process running INSIDE the sandbox (`head`/`tail` spawned by its supervisor), never
// through the host path of its state folder: a path is resolved by the sandbox's own mount namespace, so a
// symlink the sandbox planted can only lead to what the sandbox itself may read or write, never to a host
// file. Transfers go in segments, one short-lived child each, so the host holds at most one segment per
// transfer whatever the peer's speed (the supervisor protocol has no flow control of its own).

/** Raw bytes per child process; the host holds about this much per transfer. */
export const SEGMENT_BYTES = 8 * 1024 * 1024;
/**
 * Raw bytes per supervisor `write` frame (base64 inside a JSON line). Small on purpose: the supervisor
 * joins its input into one string until a newline arrives, which costs time quadratic in the frame size
 * (measured: 64 MiB took 3.6 s in 64 KiB frames, 11 s in 256 KiB frames, 18 s in 1 MiB frames).
 */
const FRAME_BYTES = 48 * 1024;
/** One segment that takes longer than this is killed (a stopped or wedged sandbox). */
const SEGMENT_TIMEOUT_MS = 120_000;
const STDERR_KEEP = 2048;

// fd 3 is the private input the supervisor gives `ctl` children; `head -c` stops after exactly n bytes.
const WRITE_SCRIPT = `f=$1; n=$2; if [ "$3" = new ]; then head -c "$n" <&3 > "$f"; else head -c "$n" <&3 >> "$f"; fi`;
const READ_SCRIPT = `[ -f "$1" ] || { echo "$1: not a regular file" >&2; exit 2; }; tail -c +"$2" -- "$1" | head -c "$3"`;

/** A sandbox-side step failed (the child's exit code and the tail of its stderr). */
export class SandboxStreamError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
  ) {
    super(message);
  }
}

type Spawner = NonNullable<SandboxRuntime["spawnRaw"]>;

/**
 * Writes `size` bytes from `source` to `path` inside the sandbox (created or truncated). Reading the
 * next segment from `source` overlaps with writing the current one.
 */
export async function writeSandboxFile(spawn: Spawner, sandbox: string, path: string, source: AsyncIterable<Buffer>, size: number): Promise<void> {
  let first = true;
  let pending: Promise<void> = Promise.resolve();
  const flush = (segment: Buffer) => {
    const mode = first ? "new" : "append";
    first = false;
    const previous = pending;
    pending = previous.then(() =>
      runChild(spawn, sandbox, ["sh", "-c", WRITE_SCRIPT, "sh", path, String(segment.length), mode], segment).then(() => undefined),
    );
    // Observed here so a failure while the body is still being read is never an unhandled rejection;
    // it is still thrown by the next flush or the final await.
    pending.catch(() => undefined);
    // Keep at most one segment waiting behind the one being written.
    return previous;
  };
  let parts: Buffer[] = [];
  let held = 0;
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    if (total > size) throw new SandboxStreamError(`the body is longer than its declared ${size} bytes`, null);
    for (let off = 0; off < chunk.length; ) {
      const take = Math.min(chunk.length - off, SEGMENT_BYTES - held);
      parts.push(chunk.subarray(off, off + take));
      held += take;
      off += take;
      if (held === SEGMENT_BYTES) {
        await flush(Buffer.concat(parts, held));
        parts = [];
        held = 0;
      }
    }
  }
  if (total !== size) throw new SandboxStreamError(`the body ended after ${total} of ${size} bytes`, null);
  if (held > 0 || first) await flush(Buffer.concat(parts, held));
  await pending;
}

/**
 * Reads up to `length` bytes of `path` inside the sandbox, one segment at a time; `sink` receives each
 * segment and may return a promise (back-pressure). Resolves with the byte count (less at end of file).
 */
export async function readSandboxFile(
  spawn: Spawner,
  sandbox: string,
  path: string,
  length: number,
  sink: (segment: Buffer) => void | Promise<void>,
): Promise<number> {
  let done = 0;
  while (done < length) {
    const want = Math.min(SEGMENT_BYTES, length - done);
    const segment = await runChild(spawn, sandbox, ["sh", "-c", READ_SCRIPT, "sh", path, String(done + 1), String(want)], undefined, want);
    await sink(segment);
    done += segment.length;
    if (segment.length < want) break;
  }
  return done;
}

/** Runs one child to its end; returns its stdout (at most `maxOut` bytes are kept, more is an error). */
async function runChild(spawn: Spawner, sandbox: string, argv: string[], input?: Buffer, maxOut = 0): Promise<Buffer> {
  const out: Buffer[] = [];
  let outBytes = 0;
  let stderr = "";
  let tooMuch = false;
  let settle!: (r: { code: number | null; signal: string | null } | { spawnError: string }) => void;
  const finished = new Promise<{ code: number | null; signal: string | null } | { spawnError: string }>((resolve) => {
    settle = resolve;
  });
  const handlers: ChildHandlers = {
    onData: (fd, chunk) => {
      if (fd === 2) {
        stderr = (stderr + chunk.toString("utf8")).slice(-STDERR_KEEP);
        return;
      }
      outBytes += chunk.length;
      if (outBytes > maxOut) tooMuch = true;
      else out.push(chunk);
    },
    onExit: (code, signal) => settle({ code, signal }),
    onSpawnError: (code, message) => settle({ spawnError: `${code}: ${message}` }),
  };
  const child: ChildRef = await spawn(sandbox, argv, handlers);
  if (input) for (let off = 0; off < input.length; off += FRAME_BYTES) child.write(input.subarray(off, off + FRAME_BYTES));
  const abort = new AbortController();
  const outcome = await Promise.race([
    finished,
    sleep(SEGMENT_TIMEOUT_MS, "timeout" as const, { signal: abort.signal }).catch(() => "aborted" as const),
  ]);
  abort.abort();
  if (outcome === "timeout" || outcome === "aborted") {
    child.kill("SIGKILL");
    throw new SandboxStreamError(`the sandbox-side transfer did not finish within ${SEGMENT_TIMEOUT_MS / 1000} s`, null);
  }
  if ("spawnError" in outcome) throw new SandboxStreamError(`cannot start the transfer process in the sandbox (${outcome.spawnError})`, null);
  if (outcome.code !== 0) {
    const why = stderr.trim().split("\n").slice(-3).join(" | ") || `${outcome.signal ?? "no error output"}`;
    throw new SandboxStreamError(`the sandbox-side transfer failed (exit ${outcome.code ?? outcome.signal}): ${why}`, outcome.code);
  }
  if (tooMuch) throw new SandboxStreamError(`the sandbox-side reader wrote more than the ${maxOut} bytes asked for`, null);
  return Buffer.concat(out, outBytes);
}
