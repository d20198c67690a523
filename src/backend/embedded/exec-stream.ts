import { setTimeout as sleep } from "node:timers/promises";
import { LineSplitter } from "../../server/runtime/line-splitter.js";
import { OutputLimit } from "../../server/runtime/output-limit.js";
import type { WireOutputLine } from "../wire.js";

/** One event of a running process, as the SDK's `ExecHandle.recv()` yields it. */
export type StreamEvent =
  | { kind: "started"; pid: number }
  | { kind: "stdout"; data: Uint8Array }
  | { kind: "stderr"; data: Uint8Array }
  | { kind: "exited"; code: number };

/**
 * The slice of the SDK's ExecHandle (plus its stdin sink) this folder relies on. Tests implement
 * it with a local child process to run the same REPL protocol without a VM.
 */
export interface ExecStream {
  recv(): Promise<StreamEvent | null>;
  /** Writes to the process's stdin (only for streams opened with a piped stdin). */
  write(text: string): Promise<void>;
  signal(signal: number): Promise<void>;
  kill(): Promise<void>;
}

/** How long a killed command may take to report its exit before its partial output is returned anyway. */
const KILL_GRACE_MS = 2000;

export interface CollectedCommand {
  /** The process's exit code; -1 when it was killed on timeout (as upstream 0.6 reports timeouts). */
  exitCode: number;
  output: WireOutputLine[];
  timedOut: boolean;
  /** The stream broke before the process reported its exit (the VM went away). */
  broken: boolean;
}

/**
 * Reads a command's stdout/stderr as ordered lines (in the order the runtime delivered them)
 * until it exits. On timeout the process is killed and the lines so far are kept, ending with a
 * stderr line that says so — the SDK's own `execWith(...timeout)` would throw and lose them.
 */
export async function collectCommand(stream: ExecStream, timeoutSeconds: number | undefined): Promise<CollectedCommand> {
  const output: WireOutputLine[] = [];
  const limit = new OutputLimit();
  const splitters = { stdout: new LineSplitter(), stderr: new LineSplitter() };
  const add = (kind: "stdout" | "stderr", lines: string[]): void => {
    for (const text of lines) if (limit.admit(output, text)) output.push({ stream: kind, text });
  };
  let exitCode: number | undefined;
  let broken = false;
  const pump = (async () => {
    try {
      for (;;) {
        const event = await stream.recv();
        if (event === null) return;
        if (event.kind === "stdout" || event.kind === "stderr") add(event.kind, splitters[event.kind].push(Buffer.from(event.data)));
        else if (event.kind === "exited") exitCode = event.code;
      }
    } catch {
      broken = true;
    }
  })();
  const abort = new AbortController();
  const timer =
    timeoutSeconds && timeoutSeconds > 0
      ? sleep(timeoutSeconds * 1000, "timeout" as const, { signal: abort.signal }).catch(() => "done" as const)
      : new Promise<never>(() => {});
  const outcome = await Promise.race([pump.then(() => "done" as const), timer]);
  abort.abort();
  if (outcome === "timeout") {
    await stream.kill().catch(() => undefined);
    await Promise.race([pump.catch(() => undefined), sleep(KILL_GRACE_MS)]);
  } else {
    await pump;
  }
  add("stdout", splitters.stdout.flush());
  add("stderr", splitters.stderr.flush());
  if (outcome === "timeout") {
    output.push({ stream: "stderr", text: `Error: Execution timed out after ${timeoutSeconds} seconds; the command was killed` });
    return { exitCode: -1, output, timedOut: true, broken };
  }
  return { exitCode: exitCode ?? -1, output, timedOut: false, broken: broken || exitCode === undefined };
}
