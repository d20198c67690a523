import { posix } from "node:path";
import { ErrorCodes } from "../errors/codes.js";
import { WorkspaceError } from "../errors/errors.js";

/**
 * Splits a workspace-relative path into components. Absolute paths, NUL and anything that climbs out
 * with `..` are refused; `a/../b` is normalised lexically, which is sound because symlinks are never
 * followed. `""` and `"."` mean the root (no components).
 */
export function splitRelPath(rel: string): string[] {
  if (typeof rel !== "string") {
    throw new WorkspaceError(ErrorCodes.WORKSPACE_ESCAPE, `workspace path must be a string, got ${typeof rel}`, {
      hint: 'pass a path relative to the workspace root, e.g. "src/main.py"',
    });
  }
  if (rel.includes("\0")) {
    throw new WorkspaceError(ErrorCodes.WORKSPACE_ESCAPE, `workspace path ${JSON.stringify(rel)} contains a NUL byte`, {
      hint: "remove the NUL byte from the path",
    });
  }
  if (posix.isAbsolute(rel)) {
    throw new WorkspaceError(ErrorCodes.WORKSPACE_ESCAPE, `workspace path "${rel}" is absolute`, {
      hint: "pass a path relative to the workspace root (drop the leading '/')",
    });
  }
  const n = posix.normalize(rel === "" ? "." : rel);
  if (n === ".." || n.startsWith("../")) {
    throw new WorkspaceError(ErrorCodes.WORKSPACE_ESCAPE, `workspace path "${rel}" leaves the workspace root`, {
      hint: "pass a path inside the workspace, without leading '..' components",
    });
  }
  return n.split("/").filter((c) => c !== "" && c !== ".");
}
