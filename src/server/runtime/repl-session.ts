import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { ErrorCodes, SandboxStateError } from "../../errors/index.js";
import { abortedPromise, hungUpError } from "./hang-up.js";
import type { RuntimeLanguage } from "./images.js";
import { LineSplitter } from "./line-splitter.js";
import { OutputLimit } from "./output-limit.js";
import { endedBeforeFirstRunError } from "./sandbox-ended.js";
import type { ChildHandlers, ChildRef } from "./supervisor-connection.js";
import type { RuntimeOutputLine } from "./types.js";

/** How long an interrupted run may take to reach its end markers before the REPL is restarted. */
const INTERRUPT_GRACE_MS = 2000;

/** How long a parked interpreter may take to start up before it is given up on. */
const PARK_WARMUP_SECONDS = 30;

type Outcome = { kind: "markers" } | { kind: "exit"; code: number | null; signal: string | null } | { kind: "spawn-error"; message: string };

/** One run's bookkeeping: output so far and which stream has shown the end marker. */
class RunState {
  readonly lines: Array<RuntimeOutputLine | null> = [];
  readonly last: Record<1 | 2, number> = { 1: -1, 2: -1 };
  readonly seen: Record<1 | 2, boolean> = { 1: false, 2: false };
  collecting = true;
  readonly #limit = new OutputLimit();
  readonly finished: Promise<Outcome>;
  finish!: (outcome: Outcome) => void;

  readonly marker: string;

  constructor(marker: string) {
    this.marker = marker;
    this.finished = new Promise((resolve) => {
      this.finish = resolve;
    });
  }

  line(fd: 1 | 2, text: string): void {
    if (text === this.marker) {
      // The driver writes "\n<marker>\n": the line just before the marker is either the output's
      // unterminated last line (keep) or the empty line that "\n" produced (drop).
      const previous = this.last[fd];
      if (this.collecting && previous >= 0 && this.lines[previous]?.text === "") this.lines[previous] = null;
      this.seen[fd] = true;
      if (this.seen[1] && this.seen[2]) this.finish({ kind: "markers" });
      return;
    }
    if (!this.collecting || this.seen[fd] || !this.#limit.admit(this.lines, text)) return;
    this.last[fd] = this.lines.length;
    this.lines.push({ stream: fd === 1 ? "stdout" : "stderr", text });
  }

  output(): RuntimeOutputLine[] {
    return this.lines.filter((line): line is RuntimeOutputLine => line !== null);
  }
}

/**
 * Where a session runs its driver: the dev server's SupervisorConnection, or the embedded
 * backend's exec stream into a microVM (src/backend/embedded/repl-host.ts).
 */
export interface ReplProcessHost {
  /** False once the sandbox is gone: a dead driver then means "stopped", not "crashed". */
  readonly alive: boolean;
  /** Why the sandbox ended itself, when it said (supervisor-connection.ts). */
  readonly endReason?: string | undefined;
  spawn(argv: string[], ctl: boolean, handlers: ChildHandlers, options?: { parked?: boolean }): ChildRef;
}

/**
 * A persistent interpreter (Python or Node driver) inside one sandbox. State survives between
 * runs; the caller serialises runs. A run that times out is interrupted with SIGINT and, if it
 * does not reach its end markers soon after, the interpreter is killed and restarted lazily.
 */
export class ReplSession {
  readonly #connection: ReplProcessHost;
  readonly #language: RuntimeLanguage;
  readonly #argv: string[];
  readonly #splitters: Record<1 | 2, LineSplitter> = { 1: new LineSplitter(), 2: new LineSplitter() };
  #child: ChildRef | undefined;
  #run: RunState | undefined;
  #exited: Promise<void> = Promise.resolve();

  constructor(connection: ReplProcessHost, language: RuntimeLanguage, argv: string[]) {
    this.#connection = connection;
    this.#language = language;
    this.#argv = argv;
  }

  async run(sandbox: string, code: string, timeoutSeconds?: number, hungUp?: AbortSignal): Promise<RuntimeOutputLine[]> {
    // Queued behind another run and the caller already left: nothing ran, nothing to answer.
    if (hungUp?.aborted) throw hungUpError(sandbox, "before its run started; the code was not run");
    const child = this.#ensureChild();
    const run = new RunState(`eoe_${randomBytes(12).toString("hex")}`);
    this.#splitters[1].reset();
    this.#splitters[2].reset();
    this.#run = run;
    try {
      child.write(`${JSON.stringify({ code, marker: run.marker })}\n`);
      const timeoutMs = timeoutSeconds && timeoutSeconds > 0 ? timeoutSeconds * 1000 : undefined;
      const abort = new AbortController();
      const timer =
        timeoutMs === undefined
          ? new Promise<never>(() => {})
          : sleep(timeoutMs, "timeout" as const, { signal: abort.signal }).catch(() => "timeout" as const);
      const outcome = await Promise.race([run.finished, timer, abortedPromise(hungUp, abort.signal)]);
      abort.abort();
      if (outcome === "timeout") return await this.#interrupt(run, `Error: Execution timed out after ${timeoutSeconds ?? 0} seconds`);
      if (outcome === "hung-up") {
        await this.#interrupt(run, "");
        throw hungUpError(sandbox, "while its run was in progress; the run was interrupted");
      }
      return this.#complete(sandbox, run, outcome);
    } finally {
      this.#run = undefined;
    }
  }

  #complete(sandbox: string, run: RunState, outcome: Outcome): RuntimeOutputLine[] {
    if (outcome.kind === "markers") return run.output();
    if (!this.#connection.alive) {
      const reason = this.#connection.endReason;
      if (reason !== undefined) throw endedBeforeFirstRunError(sandbox, reason);
      throw new SandboxStateError(ErrorCodes.NOT_STARTED, `Sandbox "${sandbox}" was stopped while a ${this.#language} run was in progress.`, {
        hint: "start the sandbox again and repeat the run",
        details: { sandbox },
      });
    }
    const lines = run.output();
    if (outcome.kind === "spawn-error") {
      lines.push({ stream: "stderr", text: `Error: Engine unavailable: cannot start the ${this.#language} interpreter: ${outcome.message}` });
      return lines;
    }
    for (const fd of [1, 2] as const) for (const text of this.#splitters[fd].flush()) run.line(fd, text);
    const how = outcome.signal ? `killed by ${outcome.signal}` : `exit code ${outcome.code}`;
    return [
      ...run.output(),
      { stream: "stderr", text: `Error: the ${this.#language} REPL exited (${how}); the next run starts a fresh one without the earlier state` },
    ];
  }

  async #interrupt(run: RunState, notice: string): Promise<RuntimeOutputLine[]> {
    run.collecting = false;
    const lines = run.output();
    if (notice) lines.push({ stream: "stderr", text: notice });
    const child = this.#child;
    child?.kill("SIGINT");
    const abort = new AbortController();
    const grace = sleep(INTERRUPT_GRACE_MS, "grace" as const, { signal: abort.signal }).catch(() => "grace" as const);
    const outcome = await Promise.race([run.finished, grace]);
    abort.abort();
    if (outcome !== "grace" && outcome.kind === "markers") return lines;
    if (this.#child === child && child) {
      child.kill("SIGKILL");
      await Promise.race([this.#exited, sleep(INTERRUPT_GRACE_MS)]);
      this.#child = undefined;
    }
    if (this.#connection.alive) {
      lines.push({
        stream: "stderr",
        text: `Error: the ${this.#language} REPL did not stop when interrupted and was restarted; variables and imports from earlier runs are lost`,
      });
    }
    return lines;
  }

  /**
   * Starts the interpreter now, in a pooled sandbox that is not attached yet (supervisor-script.ts:
   * a parked driver gets the sandbox's environment and workdir at attach), so the first run does not
   * pay for an interpreter start.
   */
  async park(sandbox: string): Promise<void> {
    await new Promise<void>((resolve) => {
      // Settles once the process exists (so a claim's renice of the sandbox's processes sees it),
      // or could not start (the first run then starts one, as in a cold sandbox).
      this.#ensureChild({ parked: true }, resolve);
    });
    // An empty run (nothing is executed, no name is set) returns once the interpreter has started
    // up: a sandbox counts as waiting only then, so the start-up's CPU is spent while the pool fills
    // (at its low priority), not after a claim (at the sandbox's own).
    // Bounded: a start-up that hangs is interrupted and this REPL restarted at the first run.
    await this.run(sandbox, "", PARK_WARMUP_SECONDS).catch(() => undefined);
  }

  /**
   * Ends the interpreter, if one runs, and waits (bounded) until it is gone: a claim checks the mount
   * table of every process in the sandbox next, and one vanishing under that check fails the claim.
   * A later run starts a fresh one.
   */
  async discard(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill("SIGKILL");
    this.#child = undefined;
    await Promise.race([this.#exited, sleep(INTERRUPT_GRACE_MS)]);
  }

  #ensureChild(options: { parked?: boolean } = {}, settled?: () => void): ChildRef {
    if (this.#child) return this.#child;
    let markExited!: () => void;
    this.#exited = new Promise((resolve) => {
      markExited = resolve;
    });
    const child = this.#connection.spawn(
      this.#argv,
      true,
      {
        onData: (fd, chunk) => {
          if (this.#child !== child) return;
          const lines = this.#splitters[fd].push(chunk);
          // Output between runs (timers, threads) belongs to no run and is dropped.
          if (this.#run) for (const text of lines) this.#run.line(fd, text);
        },
        onSpawned: settled,
        onExit: (code, signal) => {
          settled?.();
          if (this.#child === child) this.#child = undefined;
          markExited();
          this.#run?.finish({ kind: "exit", code, signal });
        },
        onSpawnError: (_code, message) => {
          settled?.();
          if (this.#child === child) this.#child = undefined;
          markExited();
          this.#run?.finish({ kind: "spawn-error", message });
        },
      },
      options,
    );
    this.#child = child;
    return child;
  }
}
