// Runs the BUILT `msbv` as a user would: `node dist/cli/main.js …` in a temp project dir, with an
// environment that cannot leak the developer's own MSB_* settings or ~/.microsandbox into a test.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { tempDir } from "./temp-dir.js";
export { processesMentioning } from "./processes.js";

export const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

/** Fails with a clear message when the package was not built (`npm test` builds first). */
export function requireBuiltCli(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` before these tests (npm test does)`);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A temp dir (canonical path) holding a project and the microsandbox home; disposing (or `cleanup()`) removes it. */
export interface CliProject extends AsyncDisposable {
  dir: string;
  home: string;
  cleanup(): Promise<void>;
}

export async function makeProject(prefix = "msbv-cli-"): Promise<CliProject> {
  const temp = await tempDir(prefix);
  return { dir: temp.path, home: path.join(temp.path, ".home"), cleanup: temp.remove, [Symbol.asyncDispose]: temp.remove };
}

/** The env every spawned CLI gets: no inherited MSB_*, a private MICROSANDBOX_HOME, no colours. */
export function cliEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("MSB_") && k !== "DEBUG") env[k] = v;
  return { ...env, MICROSANDBOX_HOME: home, NO_COLOR: "1", ...extra };
}

/** Runs the CLI to completion. */
export function runCli(args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv; input?: string }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd, env: opts.env, stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(opts.input ?? "");
  });
}

/** A `msbv dev-server` child process; `stop()` (or disposing) sends SIGTERM and resolves with how it exited. */
export interface CliDevServer extends AsyncDisposable {
  url: string;
  child: ChildProcess;
  stderr(): string;
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `msbv dev-server --port 0 …` and waits for the URL on the first stdout line. */
export async function startCliDevServer(args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<CliDevServer> {
  const child = spawn(process.execPath, [CLI, "dev-server", "--port", "0", ...args], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const firstLine = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once("line", (line) => resolve(line));
    void exited.then(({ code }) => reject(new Error(`dev-server exited (${code}) before printing its URL:\n${stderr}`)));
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    return exited;
  };
  return {
    url: firstLine,
    child,
    stderr: () => stderr,
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop();
    },
  };
}

/** True while `pid` exists (signal 0 probes without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
