// The spawn floor: what one sandboxed interpreter start costs with no server, no HTTP, no REPL.
// The argv mirrors the runtime's bubblewrap layout (tmpfs root, read-only system dirs, one bind
// volume) so the comparison isolates the server's own overhead.
import { spawn } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";

/** The real interpreter (not a pyenv shim under /root, which a tmpfs root would hide). */
export function pythonPath() {
  for (const p of ["/usr/bin/python3", "/usr/local/bin/python3"]) if (existsSync(p)) return realpathSync(p);
  throw new Error("no python3 under /usr/bin or /usr/local/bin; install python3 to run the spawn floor");
}

/**
 * bubblewrap argv for one sandbox with `workspace` bound at /workspace.
 * @param {string} workspace host dir
 */
export function bwrapArgs(workspace) {
  const args = ["--tmpfs", "/", "--ro-bind", "/usr", "/usr"];
  for (const l of ["bin", "lib", "lib64", "sbin"]) if (existsSync(`/usr/${l}`)) args.push("--symlink", `usr/${l}`, `/${l}`);
  args.push(
    "--ro-bind", "/etc", "/etc",
    "--proc", "/proc",
    "--dev", "/dev",
    "--tmpfs", "/tmp",
    "--bind", workspace, "/workspace",
    "--unshare-all",
    "--die-with-parent",
    "--chdir", "/workspace",
  );
  return args;
}

/**
 * Spawns bwrap + python3 running `code` and resolves when it exits (rejects on non-zero exit).
 * @param {string} workspace
 * @param {string} code
 */
export function spawnPython(workspace, code = "pass") {
  return new Promise((resolve, reject) => {
    const child = spawn("bwrap", [...bwrapArgs(workspace), pythonPath(), "-c", code], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`bwrap python exited ${code}: ${err}`))));
  });
}
