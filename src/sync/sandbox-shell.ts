import type { SandboxBackend } from "../backend/backend.js";
import type { WireCommandResult } from "../backend/wire.js";
import { ErrorCodes } from "../errors/codes.js";
import { MsbvError } from "../errors/msbv-error.js";
import { SyncError } from "../errors/errors.js";
import type { SyncOptions } from "./types.js";

/**
 * What an uploader hands the consumer's `check` instead of a SHA-256 when the file was already verified
 * in the sandbox as it was written (the file channel renames a file into place only after its hash
 * matched, src/server/runtime/sandbox-file-stream.ts): hashing it a second time would prove nothing more.
 */
export const VERIFIED_ON_WRITE = "verified-on-write";

/**
 * Shell prelude: strict mode; `sha256` (SHA-256 of stdin as the first word of its output: `openssl dgst`
 * where the image has it, which uses the CPU's SHA instructions and measured 115 ms against sha256sum's
 * 190 ms for 64 MiB, else coreutils `sha256sum`); and `check FILE SHA256`, which fails the script when
 * the file's hash differs.
 */
export const PRELUDE = [
  "set -eu",
  `if command -v openssl >/dev/null 2>&1; then sha256() { openssl dgst -sha256 -r; }; else sha256() { sha256sum; }; fi`,
  `check() { [ "$2" = ${VERIFIED_ON_WRITE} ] && return 0; got=$(sha256 < "$1"); [ "\${got%% *}" = "$2" ] || { echo "msbv: $1: checksum mismatch after transfer" >&2; exit 3; }; }`,
  "",
].join("\n");

/** Default server-side limit of one sync command (seconds). */
export const DEFAULT_COMMAND_TIMEOUT_S = 300;

/** A sandbox plus how to reach it; every sandbox-side step of sync goes through {@link runScript}. */
export interface SandboxTarget {
  backend: SandboxBackend;
  name: string;
  options: SyncOptions;
}

/**
 * Runs a POSIX `sh` script in the sandbox through `sandbox.command.run` (the legacy server has no file
 * API and runs commands without a shell, docs/protocol.md#command-run): `sh -c <script> sh <args…>`, so values reach the
 * script as `$1…` and are never parsed as shell text. A non-zero exit is a {@link SyncError} quoting
 * the script's stderr; transport failures are wrapped with the step that failed.
 */
export async function runScript(target: SandboxTarget, step: string, script: string, args: readonly string[]): Promise<string[]> {
  const { backend, name, options } = target;
  const call = {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  };
  let result: WireCommandResult;
  try {
    result = await backend.runCommand(name, "sh", ["-c", script, "sh", ...args], options.commandTimeoutSeconds ?? DEFAULT_COMMAND_TIMEOUT_S, call);
  } catch (err) {
    const code = err instanceof MsbvError ? ` (${err.code})` : "";
    throw new SyncError(ErrorCodes.SYNC_FAILED, `Sync ${step} failed: the command in sandbox "${name}" could not run${code}: ${firstLine(err)}`, {
      cause: err,
      hint: "check that the sandbox is still running and the server reachable; the host folder was not changed by this step",
      details: { step, sandbox: name },
    });
  }
  const stdout = result.output.filter((l) => l.stream === "stdout").map((l) => l.text);
  if (result.exit_code !== 0) {
    const stderr = result.output.filter((l) => l.stream === "stderr").map((l) => l.text);
    const tail = stderr.slice(-5).join(" | ") || "(no error output)";
    throw new SyncError(ErrorCodes.SYNC_FAILED, `Sync ${step} failed in sandbox "${name}": exit code ${result.exit_code}: ${tail}`, {
      hint: hintFor(stderr.join("\n")),
      details: { step, sandbox: name, exitCode: result.exit_code, stderr: stderr.slice(-20) },
    });
  }
  return stdout;
}

function hintFor(stderr: string): string {
  if (/read-only file system/i.test(stderr)) {
    return "the guest folder lies on a read-only part of the sandbox (on the dev server: /usr and the bound /etc files); pick another guest path, e.g. /workspace";
  }
  if (/file exists|not a directory/i.test(stderr))
    return "a file in the sandbox is in the way of the guest folder; remove it or pick another guest path";
  if (/not found/i.test(stderr))
    return "the image needs sh, tar, base64, sha256sum, find, xargs, head and tail (GNU coreutils, as in the Debian-based images)";
  if (/no space/i.test(stderr)) return "free space in the sandbox (its /tmp holds the archive while it is unpacked)";
  return "see the error output above; the host folder was not changed by this step";
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";
}
