// The spawn floor: what one sandboxed interpreter start costs with no server, no HTTP, no REPL.
// The argv mirrors the runtime's bubblewrap layout (src/server/runtime/bwrap-args.ts: every
// namespace unshared, no capabilities, tmpfs root, read-only system dirs, a minimal /etc, one bind
// volume) so the comparison isolates what the server and its supervisor add.
import { spawn } from "node:child_process";
import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import { dirname } from "node:path";

/** The real interpreter (not a pyenv shim under /root, which a tmpfs root would hide). */
export function pythonPath() {
  for (const p of ["/usr/bin/python3", "/usr/local/bin/python3"]) if (existsSync(p)) return realpathSync(p);
  throw new Error("no python3 under /usr/bin or /usr/local/bin; install python3 to run the spawn floor");
}

const ETC = ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/ssl/certs", "/etc/ssl/openssl.cnf", "/etc/ca-certificates", "/etc/alternatives", "/etc/localtime", "/etc/timezone", "/etc/nsswitch.conf"];

let cached;
/**
 * bubblewrap argv for one sandbox with `workspace` bound at /workspace.
 * @param {string} workspace host dir
 */
export function bwrapArgs(workspace) {
  if (!cached) {
    cached = ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--hostname", "floor", "--tmpfs", "/", "--ro-bind", "/usr", "/usr"];
    for (const entry of ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]) {
      try {
        const st = lstatSync(entry);
        if (st.isSymbolicLink()) cached.push("--symlink", readlinkSync(entry), entry);
        else if (st.isDirectory()) cached.push("--ro-bind", entry, entry);
      } catch {
        // absent on this host
      }
    }
    cached.push("--dir", "/etc");
    const etc = ETC.filter((e) => existsSync(e));
    for (const name of readdirSync("/etc")) if (/^python3(\.\d+)?$/.test(name)) etc.push(`/etc/${name}`);
    for (const e of etc) cached.push("--ro-bind", e, e);
    cached.push("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", "/var/tmp", "--dir", "/root");
  }
  return [...cached, "--bind", workspace, "/workspace", "--clearenv", "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin", "--chdir", "/workspace"];
}

/**
 * Spawns bwrap + python3 running `code` and resolves when it exits (rejects on non-zero exit).
 * @param {string} workspace
 * @param {string} code
 */
export function spawnPython(workspace, code = "pass") {
  return spawnInSandbox(workspace, [pythonPath(), "-c", code]);
}

/**
 * The same for Node (what the runtime's in-sandbox supervisor costs to start), binding the
 * interpreter's prefix when it lives outside /usr as the runtime does.
 * @param {string} workspace
 */
export function spawnNode(workspace) {
  const node = realpathSync(process.execPath);
  const prefix = node.startsWith("/usr/") && !node.startsWith("/usr/local/") ? [] : ["--ro-bind", dirname(dirname(node)), dirname(dirname(node))];
  return spawnInSandbox(workspace, [node, "-e", "0"], prefix);
}

/** @param {string} workspace @param {string[]} argv @param {string[]} [extra] bwrap options */
function spawnInSandbox(workspace, argv, extra = []) {
  return new Promise((resolve, reject) => {
    const child = spawn("bwrap", [...bwrapArgs(workspace), ...extra, "--", ...argv], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.once("error", reject);
    child.once("exit", (c) => (c === 0 ? resolve() : reject(new Error(`bwrap ${argv[0]} exited ${c}: ${err}`))));
  });
}
