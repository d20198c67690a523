import { setTimeout as sleep } from "node:timers/promises";
import { DevServerError, ErrorCodes, SandboxStateError } from "../../errors/index.js";
import { LineSplitter } from "./line-splitter.js";
import { OutputLimit } from "./output-limit.js";
import { endedBeforeFirstRunError } from "./sandbox-ended.js";
import { abortedPromise, hungUpError } from "./hang-up.js";
import type { SupervisorConnection } from "./supervisor-connection.js";
import type { RuntimeOutputLine } from "./types.js";

/**
 * Runs one command inside the sandbox through its supervisor: no shell, PATH lookup, stdin
 * /dev/null, the sandbox's env and workdir. A signal death reports exit code 1 (as upstream).
 * Rejects when the executable cannot be started or the timeout expires; on timeout the whole
 * process group is killed first.
 */
export async function runCommand(
  connection: SupervisorConnection,
  sandbox: string,
  command: string,
  args: readonly string[],
  timeoutSeconds?: number,
  hungUp?: AbortSignal,
): Promise<{ exitCode: number; output: RuntimeOutputLine[] }> {
  if (hungUp?.aborted) throw hungUpError(sandbox, "before its command started; it was not run");
  const output: RuntimeOutputLine[] = [];
  const limit = new OutputLimit();
  const splitters = { 1: new LineSplitter(), 2: new LineSplitter() } as const;
  const streamOf = (fd: 1 | 2): RuntimeOutputLine["stream"] => (fd === 1 ? "stdout" : "stderr");
  type Outcome = { kind: "exit"; code: number | null; signal: string | null } | { kind: "spawn-error"; code: string; message: string };
  let settle!: (outcome: Outcome) => void;
  const finished = new Promise<Outcome>((resolve) => {
    settle = resolve;
  });
  const child = connection.spawn([command, ...args], false, {
    onData: (fd, chunk) => {
      for (const text of splitters[fd].push(chunk)) if (limit.admit(output, text)) output.push({ stream: streamOf(fd), text });
    },
    onExit: (code, signal) => settle({ kind: "exit", code, signal }),
    onSpawnError: (code, message) => settle({ kind: "spawn-error", code, message }),
  });
  const abort = new AbortController();
  const timer =
    timeoutSeconds && timeoutSeconds > 0
      ? sleep(timeoutSeconds * 1000, "timeout" as const, { signal: abort.signal }).catch(() => "timeout" as const)
      : new Promise<never>(() => {});
  const outcome = await Promise.race([finished, timer, abortedPromise(hungUp, abort.signal)]);
  abort.abort();
  const shown = [command, ...args].join(" ");
  if (outcome === "hung-up") {
    child.kill("SIGKILL");
    await Promise.race([finished, sleep(2000)]);
    throw hungUpError(sandbox, `while \`${shown}\` was running; its process group was killed`);
  }
  if (outcome === "timeout") {
    child.kill("SIGKILL");
    await Promise.race([finished, sleep(2000)]);
    throw new DevServerError(
      `Command \`${shown}\` in sandbox "${sandbox}" timed out after ${timeoutSeconds} seconds; its process group was killed.`,
      {
        hint: "raise the timeout or make the command finish sooner (run long jobs in the background)",
        details: { sandbox, command, reason: "timeout" },
      },
    );
  }
  if (outcome.kind === "spawn-error") {
    const reason =
      outcome.code === "ENOENT" ? "executable not found" : outcome.code === "EACCES" ? "permission denied (not executable)" : outcome.message;
    throw new DevServerError(`Cannot run \`${command}\` in sandbox "${sandbox}": ${reason} (${outcome.code}).`, {
      hint: 'use an executable that exists in the sandbox (commands run without a shell: use command "sh" with args ["-c", "..."] for pipes or globs)',
      details: { sandbox, command, reason: outcome.code === "ENOENT" ? "not-found" : "spawn-failed", errno: outcome.code },
    });
  }
  if (!connection.alive) {
    // The sandbox ended itself (its attach failed): the caller learns why, not that it was "stopped".
    const reason = connection.endReason;
    if (reason !== undefined) throw endedBeforeFirstRunError(sandbox, reason);
    throw new SandboxStateError(ErrorCodes.NOT_STARTED, `Sandbox "${sandbox}" was stopped while \`${shown}\` was running.`, {
      hint: "start the sandbox again and repeat the command",
      details: { sandbox, command },
    });
  }
  for (const fd of [1, 2] as const)
    for (const text of splitters[fd].flush()) if (limit.admit(output, text)) output.push({ stream: streamOf(fd), text });
  return { exitCode: outcome.code ?? 1, output };
}
