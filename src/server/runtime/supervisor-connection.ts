import { spawn, type ChildProcess } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { DevServerError, ErrorCodes, HostPathError } from "../../errors/index.js";
import { isSameOrInside } from "../../volumes/guest-paths.js";
import { IDMAP_ATTACH_DIR } from "./containment/launch.js";
import { orphansWithArgv, processTreeStats, stillAlive, type ProcStat } from "./proc-tree.js";

/** Callbacks for one process run by the in-sandbox supervisor. */
export interface ChildHandlers {
  onData(fd: 1 | 2, chunk: Buffer): void;
  /** The process ended (`code` null when killed by `signal`), or the sandbox went away. */
  onExit(code: number | null, signal: string | null): void;
  /** The process could not be started (`code` is the errno name, e.g. ENOENT). */
  onSpawnError(code: string, message: string): void;
  /** The process exists (it was forked and its program started). */
  onSpawned?(): void;
  /** A {@link RawChildRef.writeRaw} frame of `n` bytes reached the process's fd 3 (flow control of bulk input). */
  onAck?(n: number): void;
}

/** Options of {@link SupervisorConnection.spawn}. */
export interface SpawnOptions {
  /**
   * Flow-controlled stdout: the supervisor pauses the process's stdout once it has sent this many bytes
   * more than granted through {@link ChildRef.grant}. Without it, output flows freely.
   */
  credit?: number;
  /**
   * No process: the supervisor itself sends up to `length` bytes of the regular file at `path` (opened
   * inside the sandbox) as this child's stdout, then exits 0 (2 with a message on stderr when the path is
   * not a readable regular file). Cheaper than relaying a reader process's pipe.
   */
  readFile?: { path: string; length: number };
  /**
   * No process: the supervisor itself writes this child's raw input to the new file `part` (created, never
   * opened through a link); at end of input `part` becomes `path` only when exactly `size` bytes came
   * (exit 0), else it is removed (exit 3, the reason on stderr). The caller checks the bytes' SHA-256 as it
   * sends them and kills the child on a mismatch (sandbox-file-stream.ts).
   * `mode` (0-0o777) and `mtime` (seconds) are set on `part` before that rename; `parents` makes the
   * missing folders above it first (as `mkdir -p`).
   */
  writeFile?: { path: string; part: string; size: number; mode?: number; mtime?: number; parents?: boolean };
  /**
   * A REPL driver started in a pooled sandbox before it is attached (the only spawn allowed then): at
   * attach the supervisor sends it the sandbox's environment and workdir before anything else.
   */
  parked?: boolean;
}

/** A process inside the sandbox. */
export interface ChildRef {
  readonly id: number;
  /** Writes to the process's private control fd (REPL drivers' requests, as JSON). */
  write(data: string | Uint8Array): void;
  /** Signals the process's whole process group. */
  kill(signal: "SIGINT" | "SIGKILL"): void;
}

/** A process run by the in-sandbox supervisor, with the bulk-byte controls of the sync file channel. */
export interface RawChildRef extends ChildRef {
  /** Bulk bytes for the private fd 3, sent as one raw frame; acknowledged through `onAck` once handed over. */
  writeRaw(pieces: readonly Uint8Array[]): void;
  /** Closes the process's fd 3 (end of input). */
  endInput(): void;
  /** Lets a process spawned with `credit` send `n` more bytes of stdout. */
  grant(n: number): void;
}

const READY_TIMEOUT_MS = 30_000;
/** How the supervisor's message starts when it cannot make or enter the workdir (supervisor-script.ts). */
const WORKDIR_FAILURE = "cannot create or enter the workdir ";
const MAX_FRAME_BYTES = 16 * 1024 * 1024;
const STDERR_TAIL_CHARS = 4096;

/**
 * One running bubblewrap sandbox, seen from the host: the `bwrap` child process and the JSON
 * channel to the supervisor running inside it.
 */
export class SupervisorConnection {
  readonly #proc: ChildProcess;
  readonly #name: string;
  /** bwrap's argv as it appears in /proc/<pid>/cmdline, to find a leftover init. */
  readonly #bwrapArgv: string[];
  readonly #handlers = new Map<number, ChildHandlers>();
  readonly #closeListeners: Array<() => void> = [];
  #nextId = 1;
  /** Pieces of the current event line (the whole line is joined once, when its newline arrives). */
  #line: Buffer[] = [];
  #lineBytes = 0;
  /** Inside a raw frame: whose bytes, and how many are still to come. */
  #raw: { id: number; fd: 1 | 2; left: number } | undefined;
  #stderrTail = "";
  #exited = false;
  /**
   * The supervisor reported ready: bubblewrap finished setting up, so its init had armed its
   * parent-death signal and cannot outlive it. Only a sandbox that never got this far can leave an
   * init behind, and only then is every host process's argv worth reading.
   */
  #wasReady = false;
  readonly #exitPromise: Promise<void>;
  #onReady: ((error?: Error) => void) | undefined;
  #onAttached: ((error?: Error) => void) | undefined;
  /** An attach to send ahead of the next request ({@link SupervisorConnection.attachWithNextRequest}). */
  #pendingAttach: Record<string, unknown> | undefined;
  /** Why an attach nobody waited for failed (the supervisor then ends the sandbox). */
  #attachFailure: string | undefined;

  private constructor(proc: ChildProcess, name: string, bwrapArgv: string[]) {
    this.#proc = proc;
    this.#name = name;
    this.#bwrapArgv = bwrapArgv;
    this.#exitPromise = new Promise((resolve) => proc.once("exit", () => resolve()));
    proc.once("exit", (code, signal) => this.#handleExit(code, signal));
    proc.stdin?.on("error", () => {});
    proc.stdout?.on("data", (chunk: Buffer) => this.#handleFrames(chunk));
    proc.stderr?.setEncoding("utf8");
    proc.stderr?.on("data", (text: string) => {
      this.#stderrTail = (this.#stderrTail + text).slice(-STDERR_TAIL_CHARS);
    });
  }

  /**
   * Starts bubblewrap through `launch` (containment/launch.ts: a launcher or wrapper that execs
   * bwrap in place, so this child's pid is bwrap's pid) with `fds` in stdio slots 3..n and an empty
   * environment, and waits until the supervisor inside reports ready.
   */
  static async launch(options: {
    bwrapPath: string;
    launch: { command: string; args: string[]; fds: number[]; bwrapArgv: string[] };
    name: string;
  }): Promise<SupervisorConnection> {
    const { launch } = options;
    const proc = spawn(launch.command, launch.args, { stdio: ["pipe", "pipe", "pipe", ...launch.fds], env: {} });
    const connection = new SupervisorConnection(proc, options.name, launch.bwrapArgv);
    const spawnError = new Promise<Error>((resolve) => proc.once("error", resolve));
    const ready = new Promise<Error | undefined>((resolve) => {
      connection.#onReady = resolve;
    });
    const abort = new AbortController();
    const timer = sleep(READY_TIMEOUT_MS, "timeout" as const, { signal: abort.signal }).catch(() => "aborted" as const);
    const outcome = await Promise.race([ready, spawnError, timer]);
    abort.abort();
    connection.#onReady = undefined;
    if (outcome === undefined) {
      connection.#wasReady = true;
      return connection;
    }
    await connection.terminate();
    // bwrap's own error message may still be in flight when its exit is seen.
    await Promise.race([new Promise((resolve) => proc.once("close", resolve)), sleep(500)]);
    const reason = typeof outcome === "string" ? `no ready signal within ${READY_TIMEOUT_MS / 1000} s` : outcome.message;
    const stderr = connection.#stderrTail.trim();
    if (volumeMovedWhileMounted(stderr, launch.bwrapArgv)) {
      throw new HostPathError(
        ErrorCodes.HOST_PATH_DENIED,
        // bwrap's words stay in `details` (the server's log): they name host paths (where the folder
        // went, the server's own attach folder), and this refusal reaches the caller as a 400.
        `Refusing to start sandbox "${options.name}": a volume's host folder was moved or replaced while bubblewrap mounted it.`,
        {
          hint: "start again; if it keeps happening, stop whatever renames folders on that path (another sandbox sharing it)",
          details: { sandbox: options.name, bwrap: stderr },
        },
      );
    }
    // The supervisor could not make or enter the workdir (supervisor-script.ts): bubblewrap worked.
    if (typeof outcome !== "string" && outcome.message.startsWith(WORKDIR_FAILURE)) {
      throw new DevServerError(`Cannot start sandbox "${options.name}": its supervisor said: ${outcome.message}`, {
        hint: "use a workdir the sandbox can create (not under a read-only volume, a file or a system folder), or clear what is in its way in the sandbox's /home",
        details: { sandbox: options.name },
        cause: outcome,
      });
    }
    // The root launcher (containment/launcher-script.ts) reports its own failures with this prefix.
    const launcher = stderr.includes("msbv-launcher:");
    throw new DevServerError(
      `Cannot start sandbox "${options.name}" with bubblewrap (${options.bwrapPath}): ${reason}${stderr ? `; ${launcher ? "the containment launcher" : "bwrap"} said: ${stderr}` : ""}`,
      {
        hint: launcher
          ? "the sandbox could not be contained (idmapped mount, cgroups or uid switch refused); mount a folder on a local filesystem such as ext4, xfs, btrfs or tmpfs, or run the dev server as an ordinary user"
          : "check that bubblewrap works on this host (e.g. `bwrap --ro-bind / / true`) and that every volume's host directory exists",
        details: { sandbox: options.name },
        cause: typeof outcome === "string" ? undefined : outcome,
      },
    );
  }

  /** Host pid of the `bwrap` process we spawned. */
  get bwrapPid(): number | undefined {
    return this.#proc.pid;
  }

  get alive(): boolean {
    return !this.#exited;
  }

  /** Why the supervisor ended the sandbox itself, when it said so (an attach nobody waited for failed). */
  get endReason(): string | undefined {
    return this.#attachFailure;
  }

  /** Registers a listener for the sandbox going away (stopped, crashed or killed from inside). */
  onClose(listener: () => void): void {
    if (this.#exited) listener();
    else this.#closeListeners.push(listener);
  }

  /**
   * Gives a pooled sandbox (started with an empty workdir) the environment and workdir of the
   * sandbox it becomes; its volumes must be mounted first, so the workdir is entered through them.
   */
  attach(env: ReadonlyArray<[string, string]>, workdir: string): Promise<void> {
    if (this.#exited) return Promise.reject(new Error("the pooled sandbox is gone"));
    const attached = new Promise<void>((resolve, reject) => {
      this.#onAttached = (error) => (error ? reject(error) : resolve());
    });
    this.#send({ t: "attach", env: Object.fromEntries(env), workdir });
    return attached.finally(() => {
      this.#onAttached = undefined;
    });
  }

  /**
   * {@link attach} without the wait: the attach goes out in the same write as the next request, which
   * the supervisor then handles after it, so the sandbox's first process or REPL input sees its
   * environment and workdir. For a workdir the attach cannot fail to make (pool/deferred-attach.ts):
   * should it fail anyway (a full disk), the supervisor ends the sandbox and every request in flight
   * gets the reason on stderr. Throws, as {@link attach} rejects, when the sandbox is already gone:
   * the claim then fails and the start goes cold instead of handing out a dead sandbox.
   */
  attachWithNextRequest(env: ReadonlyArray<[string, string]>, workdir: string): void {
    if (this.#exited) throw new Error("the pooled sandbox is gone");
    this.#pendingAttach = { t: "attach", env: Object.fromEntries(env), workdir };
  }

  /** Asks the supervisor to run `argv` (PATH lookup, no shell, stdin /dev/null). */
  spawn(argv: string[], ctl: boolean, handlers: ChildHandlers, options: SpawnOptions = {}): RawChildRef {
    const id = this.#nextId++;
    if (this.#exited) {
      const why = this.#attachFailure ? ` (${this.#attachFailure})` : "";
      queueMicrotask(() => handlers.onSpawnError("ESRCH", `sandbox "${this.#name}" is not running${why}`));
    } else {
      this.#handlers.set(id, handlers);
      this.#send({
        t: "spawn",
        id,
        argv,
        ctl,
        ...(options.credit !== undefined ? { credit: options.credit } : {}),
        ...(options.readFile ? { readFile: options.readFile } : {}),
        ...(options.writeFile ? { writeFile: options.writeFile } : {}),
        ...(options.parked ? { parked: true } : {}),
      });
    }
    return {
      id,
      write: (data) =>
        this.#send({
          t: "write",
          id,
          b64: (typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data.buffer, data.byteOffset, data.byteLength)).toString("base64"),
        }),
      writeRaw: (pieces) => {
        const stdin = this.#proc.stdin;
        if (this.#exited || !stdin?.writable) return;
        // Header and bytes are queued back to back (one writev), so no other message can come between them.
        stdin.cork();
        this.#send({ t: "raw", id, n: pieces.reduce((n, piece) => n + piece.byteLength, 0) });
        for (const piece of pieces) stdin.write(piece);
        stdin.uncork();
      },
      endInput: () => this.#send({ t: "end", id }),
      grant: (n) => this.#send({ t: "credit", id, n }),
      kill: (signal) => this.#send({ t: "kill", id, signal }),
    };
  }

  /**
   * Kills the whole sandbox: SIGKILL to bubblewrap's init (pid 1 of the sandbox's PID namespace)
   * makes the kernel kill every process in it. Then waits until none of the processes seen
   * before the kill is left.
   */
  async terminate(): Promise<void> {
    const root = this.#proc.pid;
    // Walked down from bwrap: a stop costs a few reads, however many processes the host runs.
    const before: ProcStat[] = root === undefined || this.#exited ? [] : await processTreeStats(root);
    this.#proc.stdin?.end();
    if (!this.#exited) {
      // With --unshare-pid, bwrap's only child is the namespace's init; until it exists, killing
      // bwrap itself is enough (--die-with-parent takes the rest down).
      const init = before.find((stat) => stat.ppid === root);
      if (init) safeKill(init.pid);
      else this.#proc.kill("SIGKILL");
      const exited = await Promise.race([this.#exitPromise.then(() => true), sleep(3000, false)]);
      if (!exited) this.#proc.kill("SIGKILL");
      await this.#exitPromise;
    }
    // An init whose bwrap died during setup escaped the tree; look for it by argv (a scan of every
    // process) only then. With bwrap's init in the tree, its death took the whole PID namespace.
    if (!this.#wasReady && !before.some((stat) => stat.ppid === root)) before.push(...(await orphansWithArgv(this.#bwrapArgv)));
    for (let attempt = 0; attempt < 100; attempt++) {
      const alive = (await Promise.all(before.map(async (stat) => ((await stillAlive(stat)) ? stat : undefined)))).filter(
        (stat) => stat !== undefined,
      );
      if (alive.length === 0) return;
      for (const stat of alive) safeKill(stat.pid);
      await sleep(20);
    }
    throw new DevServerError(`Sandbox "${this.#name}" did not go away after SIGKILL.`, {
      hint: "look for leftover bwrap processes with `ps -ef | grep bwrap` and kill them",
      details: { sandbox: this.#name },
    });
  }

  #send(message: Record<string, unknown>): void {
    if (this.#exited || !this.#proc.stdin?.writable) return;
    const attach = this.#pendingAttach;
    this.#pendingAttach = undefined;
    this.#proc.stdin.write(`${attach ? `${JSON.stringify(attach)}\n` : ""}${JSON.stringify(message)}\n`);
  }

  #handleFrames(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#raw) {
        const raw = this.#raw;
        const take = Math.min(raw.left, chunk.length - at);
        raw.left -= take;
        if (raw.left === 0) this.#raw = undefined;
        if (take > 0) this.#handlers.get(raw.id)?.onData(raw.fd, chunk.subarray(at, at + take));
        at += take;
        continue;
      }
      const index = chunk.indexOf(10, at);
      if (index < 0) {
        // Sandboxed code can write into the supervisor's stdout; never let one line grow without bound.
        this.#lineBytes += chunk.length - at;
        if (this.#lineBytes > MAX_FRAME_BYTES) {
          this.#line = [];
          this.#lineBytes = 0;
        } else this.#line.push(chunk.subarray(at));
        return;
      }
      this.#line.push(chunk.subarray(at, index));
      const line = Buffer.concat(this.#line).toString("utf8");
      this.#line = [];
      this.#lineBytes = 0;
      at = index + 1;
      this.#dispatch(line);
    }
  }

  #dispatch(line: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof frame !== "object" || frame === null) return;
    const f = frame as Record<string, unknown>;
    if (f["t"] === "raw") {
      // Bytes follow the header whoever they are for; a bad count makes the line plain garbage.
      const n = f["n"];
      if (typeof n === "number" && Number.isSafeInteger(n) && n >= 0 && n <= MAX_FRAME_BYTES && typeof f["id"] === "number") {
        this.#raw = { id: f["id"], fd: f["fd"] === 2 ? 2 : 1, left: n };
      }
      return;
    }
    if (f["t"] === "ready") this.#onReady?.();
    else if (f["t"] === "fatal") this.#onReady?.(new Error(String(f["message"])));
    else if (f["t"] === "attached") this.#onAttached?.();
    else if (f["t"] === "attach-error") {
      if (this.#onAttached) this.#onAttached(new Error(String(f["message"])));
      else this.#attachFailure = String(f["message"]);
    }
    const handlers = typeof f["id"] === "number" ? this.#handlers.get(f["id"]) : undefined;
    if (!handlers) return;
    if (f["t"] === "spawned") {
      handlers.onSpawned?.();
    } else if (f["t"] === "ack" && typeof f["n"] === "number") {
      handlers.onAck?.(f["n"]);
    } else if (f["t"] === "exit") {
      this.#handlers.delete(f["id"] as number);
      handlers.onExit(typeof f["code"] === "number" ? f["code"] : null, typeof f["signal"] === "string" ? f["signal"] : null);
    } else if (f["t"] === "spawn-error") {
      this.#handlers.delete(f["id"] as number);
      handlers.onSpawnError(String(f["code"]), String(f["message"]));
    }
  }

  #handleExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.#exited = true;
    this.#onReady?.(new Error(`bwrap exited before the sandbox was ready (${signal ?? `exit code ${code}`})`));
    this.#onAttached?.(new Error(`the pooled sandbox ended before it was attached (${signal ?? `exit code ${code}`})`));
    const orphans = [...this.#handlers.values()];
    this.#handlers.clear();
    const why = this.#attachFailure ? Buffer.from(`sandbox "${this.#name}" ended: ${this.#attachFailure}\n`) : undefined;
    for (const handlers of orphans) {
      if (why) handlers.onData(2, why);
      handlers.onExit(null, "SIGKILL");
    }
    for (const listener of this.#closeListeners.splice(0)) listener();
    // bwrap ended during setup: make sure no init it forked is left behind.
    if (this.#wasReady) return;
    void orphansWithArgv(this.#bwrapArgv)
      .then((orphans: ProcStat[]) => {
        for (const stat of orphans) safeKill(stat.pid);
      })
      .catch(() => undefined);
  }
}

function safeKill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/**
 * bubblewrap's --bind-fd binds the path the descriptor has *now* (readlink of /proc/self/fd/N) and
 * then checks it is the same folder. A volume folder renamed meanwhile (a sandbox sharing its parent
 * can do that) fails one of those steps: "Race condition binding dirfd", or "Can't get type of
 * source <path>" / "Can't bind mount /oldroot<path> on …" for a path that is in none of bwrap's
 * arguments (it came from a descriptor). Nothing was mounted; the caller's host path moved, which
 * is not a server fault.
 */
export function volumeMovedWhileMounted(stderr: string, bwrapArgv: readonly string[]): boolean {
  if (stderr.includes("Race condition binding dirfd")) return true;
  const match = /Can't get type of source (\/.*?): |Can't bind mount \/oldroot(\/.*?) on \/newroot/.exec(stderr);
  const source = match?.[1] ?? match?.[2];
  // As root, bubblewrap binds the launcher's private attach folders (containment/launch.ts), which
  // nothing outside the launcher can rename: a failure there is the server's, not a moved volume.
  if (source === undefined || isSameOrInside(source, IDMAP_ATTACH_DIR)) return false;
  return !bwrapArgv.includes(source);
}
