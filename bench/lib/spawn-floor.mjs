// The spawn floor: what one sandboxed interpreter start costs with no server, no HTTP, no supervisor
// and no REPL. The argv comes from the runtime itself (dist/server/runtime/bwrap-args.js, built by
// `npm run bench` first), so the floor has exactly the dev server's sandbox layout and cannot drift.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { buildBwrapArgs, probeHostLayout } from "../../dist/server/runtime/bwrap-args.js";

/** The real interpreter (not a pyenv shim under /root, which a tmpfs root would hide). */
export function pythonPath() {
  for (const p of ["/usr/bin/python3", "/usr/local/bin/python3"]) if (existsSync(p)) return realpathSync(p);
  throw new Error("no python3 under /usr/bin or /usr/local/bin; install python3 to run the spawn floor");
}

let layout;
/** The writable areas a runtime sandbox has (/etc files, /home, /.sandbox), next to the workspace. */
function areas(workspace) {
  const root = `${workspace}.floor`;
  if (!existsSync(root)) {
    for (const d of ["etc", "home", "sandbox"]) mkdirSync(`${root}/${d}`, { recursive: true });
    writeFileSync(`${root}/etc/passwd`, "root:x:0:0:root:/root:/bin/sh\n");
    writeFileSync(`${root}/etc/group`, "root:x:0:\n");
    writeFileSync(`${root}/etc/hosts`, "127.0.0.1 localhost\n");
  }
  return { etcDir: `${root}/etc`, homeDir: `${root}/home`, dotSandboxDir: `${root}/sandbox` };
}

/**
 * Spawns bwrap + `command` with `workspace` bound at /workspace, and resolves when it exits
 * (rejects on a non-zero exit).
 */
async function spawnInSandbox(workspace, command, extraRoDirs = []) {
  layout ??= await probeHostLayout();
  const args = buildBwrapArgs({
    name: "floor",
    layout,
    ...areas(workspace),
    extraRoDirs,
    volumes: [{ host: workspace, guest: "/workspace" }],
    env: [["PATH", "/usr/local/bin:/usr/bin:/bin"]],
    workdir: "/workspace",
    command,
  });
  await new Promise((resolve, reject) => {
    const child = spawn("bwrap", args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.once("error", reject);
    child.once("exit", (c) => (c === 0 ? resolve() : reject(new Error(`bwrap ${command[0]} exited ${c}: ${err}`))));
  });
}

/** bwrap + python3 running `code`. */
export function spawnPython(workspace, code = "pass") {
  return spawnInSandbox(workspace, [pythonPath(), "-c", code]);
}

/** bwrap + node (what the runtime's in-sandbox supervisor costs to start), its prefix bound as the runtime does. */
export function spawnNode(workspace) {
  const node = realpathSync(process.execPath);
  const prefix = dirname(dirname(node));
  return spawnInSandbox(workspace, [node, "-e", "0"], node.startsWith("/usr/") && !node.startsWith("/usr/local/") ? [] : [prefix]);
}
