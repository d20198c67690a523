import { createHash, randomBytes } from "node:crypto";
import type { ChildHandlers, RawChildRef, SpawnOptions } from "./supervisor-connection.js";
import type { SandboxRuntime } from "./types.js";

// The sync file channel's sandbox side (docs/protocol.md#dev-sync-channel). Bytes reach the sandbox's
// files only through a process running INSIDE the sandbox (its supervisor, or `head`/`tee` it spawned), never
// through the host path of its state folder: a path is resolved by the sandbox's own mount namespace, so a
// symlink the sandbox planted can only lead to what the sandbox itself may read or write, never to a host
// file. One process per transfer, its bytes streamed as raw supervisor frames (no base64, no JSON), with a
// window each way so the host holds at most WINDOW_BYTES per transfer whatever the peer's speed.

/** Unacknowledged bytes per transfer, each way (what the host and the supervisor may hold for it). */
export const WINDOW_BYTES = 4 * 1024 * 1024;
/** Bytes per raw frame (one header, one acknowledgement): HTTP bodies arrive in pieces of 16-64 KiB. */
const FRAME_BYTES = 1024 * 1024;
/** Output is granted back in steps of this much rather than per pipe read. */
const GRANT_STEP = 1024 * 1024;
/** A transfer that makes no progress for this long is killed (a stopped or wedged sandbox). */
const IDLE_TIMEOUT_MS = 120_000;
const STDERR_KEEP = 2048;

// fd 3 is the process's private input; `head -c` stops after exactly n bytes. The bytes are hashed as they
// are written, next to the file; only a copy whose SHA-256 is the expected one is renamed into place, so
// nothing unverified ever appears at the path (the verify-before-use rule of src/sync/README.md).
// gzip input is unpacked on the way, never past the expected size.
// `openssl dgst` where the image has it (the CPU's SHA instructions: 115 ms against sha256sum's 190 ms
// for 64 MiB), else coreutils sha256sum.
const WRITE_SCRIPT = `set -eu
f=$1; n=$2; sum=$3; enc=$4; size=$5; part=$6; mode=$7; mtime=$8; parents=$9
[ "$parents" != 1 ] || mkdir -p -- "$(dirname -- "$f")"
trap 'rm -f -- "$part"' EXIT
if command -v openssl >/dev/null 2>&1; then sha256() { openssl dgst -sha256 -r; }; else sha256() { sha256sum; }; fi
if [ "$enc" = gzip ]; then
  got=$(head -c "$n" <&3 | gzip -dc | head -c "$size" | tee -- "$part" | sha256)
else
  got=$(head -c "$n" <&3 | tee -- "$part" | sha256)
fi
[ "\${got%% *}" = "$sum" ] || { echo "$f: SHA-256 mismatch after transfer; the file was not written" >&2; exit 3; }
[ "$mode" = - ] || chmod "$mode" -- "$part"
[ "$mtime" = - ] || touch -m -d "@$mtime" -- "$part"
mv -fT -- "$part" "$f"
`;

/** A sandbox-side step failed (the process's exit code and the tail of its stderr). */
export class SandboxStreamError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
  ) {
    super(message);
  }
}

type Spawner = NonNullable<SandboxRuntime["spawnRaw"]>;

/** What the bytes of a write must turn into: SHA-256 (and size) of the file, and how they are encoded. */
export interface WriteCheck {
  sha256: string;
  /** `gzip`: the body is gzip data, unpacked in the sandbox to `size` bytes. */
  encoding: "identity" | "gzip";
  /** Size of the file once unpacked (the body's size when not encoded). */
  size: number;
  /** Permission bits (0-0o777) and modification time (seconds) the file gets before it appears. */
  mode?: number;
  mtime?: number;
  /** Make the file's missing parent folders first, as the sandbox's user (`mkdir -p`). */
  parents?: boolean;
}

/**
 * Writes the `bodySize` bytes of `source` to `path` inside the sandbox: hashed on the way, and renamed
 * into place only when the SHA-256 is `check.sha256` (a mismatch leaves the path untouched and fails).
 */
export async function writeSandboxFile(
  spawn: Spawner,
  sandbox: string,
  path: string,
  source: AsyncIterable<Buffer>,
  bodySize: number,
  check: WriteCheck,
): Promise<void> {
  const part = `${path}.msbv-part-${randomBytes(6).toString("hex")}`;
  // Plain bytes: the supervisor writes them to `part` itself (no 4-8 KiB pipeline) and renames it only at
  // the end of input, which comes only once this server hashed every byte it handed over and found the
  // SHA-256 asked for; otherwise the writer is killed and `part` removed. Hashing here rather than in
  // the supervisor takes a quarter of the supervisor's CPU off the slowest stage of the transfer
  // (measured with perf); it checks the same bytes, those that reach the sandbox's writer. gzip goes
  // through the shell writer, which unpacks and hashes on the way.
  const relayHash = check.encoding === "identity" ? createHash("sha256") : undefined;
  const run =
    check.encoding === "identity"
      ? await Transfer.start(spawn, sandbox, ["write", path], undefined, {
          writeFile: {
            path,
            part,
            size: check.size,
            ...(check.mode !== undefined ? { mode: check.mode } : {}),
            ...(check.mtime !== undefined ? { mtime: check.mtime } : {}),
            ...(check.parents ? { parents: true } : {}),
          },
        })
      : await Transfer.start(spawn, sandbox, [
          "sh",
          "-c",
          WRITE_SCRIPT,
          "sh",
          path,
          String(bodySize),
          check.sha256,
          check.encoding,
          String(check.size),
          part,
          check.mode === undefined ? "-" : check.mode.toString(8),
          check.mtime === undefined ? "-" : check.mtime.toFixed(3),
          check.parents ? "1" : "-",
        ]);
  try {
    let total = 0;
    let frame: Buffer[] = [];
    let framed = 0;
    for await (const chunk of source) {
      total += chunk.length;
      if (total > bodySize) throw new SandboxStreamError(`the body is longer than its declared ${bodySize} bytes`, null);
      relayHash?.update(chunk);
      frame.push(chunk);
      framed += chunk.length;
      if (framed >= FRAME_BYTES) {
        const full = frame;
        frame = [];
        framed = 0;
        await run.send(full);
      }
    }
    if (total !== bodySize) throw new SandboxStreamError(`the body ended after ${total} of ${bodySize} bytes`, null);
    if (framed > 0) await run.send(frame);
    if (relayHash && relayHash.digest("hex") !== check.sha256) {
      throw new SandboxStreamError(`${path}: SHA-256 mismatch after transfer; the file was not written`, 3);
    }
    run.child.endInput();
    await run.finished();
  } catch (err) {
    run.abort();
    throw err;
  }
}

/**
 * Reads up to `length` bytes of `path` inside the sandbox; `sink` receives them in order and may return
 * a promise (back-pressure: the sandbox-side reader is paused meanwhile). Resolves with the byte count.
 */
export async function readSandboxFile(
  spawn: Spawner,
  sandbox: string,
  path: string,
  length: number,
  sink: (chunk: Buffer) => void | Promise<void>,
): Promise<number> {
  let received = 0;
  let owed = 0;
  let delivery: Promise<void> = Promise.resolve();
  let run: Transfer | undefined;
  const onStdout = (chunk: Buffer) => {
    received += chunk.length;
    if (received > length) {
      run?.fail(new SandboxStreamError(`the sandbox-side reader wrote more than the ${length} bytes asked for`, null));
      return;
    }
    delivery = delivery.then(async () => {
      await sink(chunk);
      owed += chunk.length;
      if (owed >= GRANT_STEP) {
        run?.child.grant(owed);
        owed = 0;
      }
    });
    delivery.catch((err: unknown) => run?.fail(err));
  };
  // The supervisor reads the file itself (opened in the sandbox's mount namespace, regular files only):
  // relaying a reader process's pipe cost more CPU than everything else of a download.
  run = await Transfer.start(spawn, sandbox, ["read", path], { onStdout, credit: WINDOW_BYTES }, { readFile: { path, length } });
  try {
    await run.finished();
    await delivery;
  } catch (err) {
    run.abort();
    throw err;
  }
  return received;
}

/** One sandbox process of a transfer: flow control, stderr tail, idle timeout, outcome. */
class Transfer {
  #stderr = "";
  #inFlight = 0;
  #wake: (() => void) | undefined;
  #failure: unknown;
  #outcome: { code: number | null; signal: string | null } | undefined;
  #settle!: () => void;
  readonly #done = new Promise<void>((resolve) => {
    this.#settle = resolve;
  });
  #timer: NodeJS.Timeout | undefined;
  child!: RawChildRef;

  static async start(
    spawn: Spawner,
    sandbox: string,
    argv: string[],
    output?: { onStdout: (chunk: Buffer) => void; credit: number },
    builtin: Pick<SpawnOptions, "readFile" | "writeFile"> = {},
  ): Promise<Transfer> {
    const run = new Transfer();
    const handlers: ChildHandlers = {
      onData: (fd, chunk) => {
        run.#progress();
        if (fd === 2) run.#stderr = (run.#stderr + chunk.toString("utf8")).slice(-STDERR_KEEP);
        else if (output) output.onStdout(chunk);
        else run.fail(new SandboxStreamError("the sandbox-side writer printed to stdout", null));
      },
      onAck: (n) => {
        run.#progress();
        run.#inFlight -= n;
        if (run.#inFlight < WINDOW_BYTES) run.#wakeUp();
      },
      onExit: (code, signal) => {
        run.#outcome = { code, signal };
        run.#end();
      },
      onSpawnError: (code, message) =>
        run.fail(new SandboxStreamError(`cannot start the transfer process in the sandbox (${code}: ${message})`, null)),
    };
    run.child = await spawn(sandbox, argv, handlers, { ...(output ? { credit: output.credit } : {}), ...builtin });
    run.#progress();
    return run;
  }

  /** Hands `pieces` to the process's fd 3 as one frame; waits while a full window is unacknowledged. */
  async send(pieces: readonly Buffer[]): Promise<void> {
    this.#throwIfOver();
    this.child.writeRaw(pieces);
    this.#inFlight += pieces.reduce((n, piece) => n + piece.length, 0);
    while (this.#inFlight >= WINDOW_BYTES) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#throwIfOver();
      if (this.#outcome) throw new SandboxStreamError("the sandbox-side writer ended before it had taken every byte", null);
    }
  }

  /** Resolves when the process exited 0; otherwise rejects with why. */
  async finished(): Promise<void> {
    await this.#done;
    this.#throwIfOver();
  }

  fail(err: unknown): void {
    this.#failure ??= err;
    this.child?.kill("SIGKILL");
    this.#end();
  }

  /** Best effort: the process is killed (a transfer that failed on the host side). */
  abort(): void {
    if (!this.#outcome) this.child?.kill("SIGKILL");
    this.#end();
  }

  #throwIfOver(): void {
    if (this.#failure !== undefined) throw this.#failure;
    const outcome = this.#outcome;
    if (!outcome) return;
    if (outcome.code !== 0) {
      const why = this.#stderr.trim().split("\n").slice(-3).join(" | ") || `${outcome.signal ?? "no error output"}`;
      throw new SandboxStreamError(`the sandbox-side transfer failed (exit ${outcome.code ?? outcome.signal}): ${why}`, outcome.code);
    }
  }

  #progress(): void {
    clearTimeout(this.#timer);
    if (this.#outcome || this.#failure !== undefined) return;
    this.#timer = setTimeout(
      () => this.fail(new SandboxStreamError(`the sandbox-side transfer made no progress for ${IDLE_TIMEOUT_MS / 1000} s`, null)),
      IDLE_TIMEOUT_MS,
    );
    this.#timer.unref();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #end(): void {
    clearTimeout(this.#timer);
    this.#wakeUp();
    this.#settle();
  }
}
