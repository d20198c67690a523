// The one sandbox-name rule. The legacy server enforces it on every sandbox.* call
// (docs/protocol.md#sandbox-names); the client and the config file check it early so a bad name
// fails before anything is sent; the runtime, the generated config and the sync state file rely on
// it because a name becomes a directory name, a file name and a hostname. Callers wrap the problem
// in their own error and wording; the checks and their order live only here.

/** Longest accepted name, counted in UTF-8 bytes as the legacy server does. */
export const SANDBOX_NAME_MAX_BYTES = 63;

/** The rule in words, for hints. */
export const SANDBOX_NAME_RULE = "up to 63 letters, digits, '-' or '_', starting with a letter or digit";

/** What is wrong with a name, in the order the legacy server checks (its first failure is the one it reports). */
export type SandboxNameProblem = "empty" | "too-long" | "bad-characters" | "bad-start";

const NAME_CHARS = /^[A-Za-z0-9_-]+$/;
const NAME_START = /^[A-Za-z0-9]/;

/** The first rule `name` breaks, or undefined when it is a valid sandbox name. */
export function sandboxNameProblem(name: string): SandboxNameProblem | undefined {
  if (name.length === 0) return "empty";
  if (Buffer.byteLength(name, "utf8") > SANDBOX_NAME_MAX_BYTES) return "too-long";
  if (!NAME_CHARS.test(name)) return "bad-characters";
  if (!NAME_START.test(name)) return "bad-start";
  return undefined;
}

export function isValidSandboxName(name: string): boolean {
  return sandboxNameProblem(name) === undefined;
}
