/**
 * A relative path as sync accepts it from an untrusted side (sandbox listing or archive): `/`-separated,
 * no empty, `.` or `..` components, not absolute, no NUL. Returns the problem, or undefined when usable.
 * Stricter than the workspace's own check (which normalises `a/../b`): a well-behaved `find` or `tar`
 * never produces such names, so one that does is treated as hostile.
 */
export function relPathProblem(p: string): string | undefined {
  if (p.length === 0) return "empty path";
  if (p.includes("\0")) return "contains a NUL byte";
  if (p.startsWith("/")) return "absolute path";
  const parts = p.split("/");
  if (parts.some((c) => c === "" || c === "." || c === "..")) return "has an empty, '.' or '..' component";
  return undefined;
}

/** Decodes a file name, or undefined when its bytes are not valid UTF-8 (such names cannot be synced faithfully). */
export function decodeName(raw: Buffer): string | undefined {
  const text = raw.toString("utf8");
  return Buffer.from(text, "utf8").equals(raw) ? text : undefined;
}
