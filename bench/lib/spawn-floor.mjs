// The spawn floor: what one sandboxed interpreter start costs with no server, no HTTP, no supervisor
// and no REPL. The argv comes from the runtime itself (dist/server/runtime/, built by `npm run bench`
// first), so the floor has exactly the dev server's sandbox layout and cannot drift. Two start paths:
// - the floor (`spawnPython`): bubblewrap as the server's own uid with binds by path, no seccomp,
//   i.e. the start path before the containment work (docs/security.md), kept as the reference;
// - the contained path (`spawnPythonContained`): what the runtime does now, descriptors opened
//   without following symlinks, limits, seccomp, and as root the launcher (idmapped mounts, uid switch).
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { buildBwrapArgs, probeHostLayout } from "../../dist/server/runtime/bwrap-args.js";
import { tmpfsBytes } from "../../dist/server/runtime/containment/limits.js";
import { prepareLaunch } from "../../dist/server/runtime/containment/launch.js";
import { detectLimitMechanism, prepareLimits } from "../../dist/server/runtime/containment/limits.js";
import { allocateIdentity, serverIsRoot } from "../../dist/server/runtime/containment/sandbox-identity.js";
import { writeSeccompProgram } from "../../dist/server/runtime/state-dir.js";

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
 * The old start path's argv: the runtime's layout with every descriptor bind turned back into a
 * bind by path, and without the user-namespace/seccomp options the containment added.
 */
function legacyArgs(workspace, command, extraRoDirs) {
  const a = areas(workspace);
  const hostOf = new Map([
    [5, a.homeDir],
    [6, a.dotSandboxDir],
    [7, workspace],
  ]);
  const etcOf = new Map([[3, `${a.etcDir}/passwd`]]);
  const args = buildBwrapArgs({
    name: "floor",
    layout,
    etcFiles: [{ fd: 3, guest: "/etc/passwd" }],
    seccompFd: 4,
    home: { fd: 5, guest: "/home", readonly: false },
    dotSandbox: { fd: 6, guest: "/.sandbox", readonly: false },
    extraRoDirs,
    volumes: [{ fd: 7, guest: "/workspace", readonly: false }],
    env: [["PATH", "/usr/local/bin:/usr/bin:/bin"]],
    workdir: "/workspace",
    // What the runtime gives a sandbox with the default 512 MiB.
    tmpfsBytes: tmpfsBytes(512),
    command,
  });
  const out = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--bind-fd") out.push("--bind", hostOf.get(Number(args[++i])), args[++i]);
    else if (arg === "--ro-bind-data") out.push("--ro-bind", etcOf.get(Number(args[++i])), args[++i]);
    else if (arg === "--seccomp" || arg === "--uid" || arg === "--gid") i++;
    else if (arg === "--disable-userns" || arg === "--unshare-user") continue;
    else out.push(arg);
  }
  return out;
}

function run(command, args, { fds = [], env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe", ...fds], ...(env && { env }) });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.once("error", reject);
    child.once("exit", (c) => (c === 0 ? resolve() : reject(new Error(`${command} exited ${c}: ${err}`))));
  });
}

/**
 * Spawns bwrap + `command` with `workspace` bound at /workspace, and resolves when it exits
 * (rejects on a non-zero exit).
 */
async function spawnInSandbox(workspace, command, extraRoDirs = []) {
  layout ??= await probeHostLayout();
  await run("bwrap", legacyArgs(workspace, command, extraRoDirs));
}

let seccompFile;
let mechanism;
/** The same start through the runtime's containment (prepareLaunch), as the dev server does it. */
async function spawnContained(workspace, command, extraRoDirs = []) {
  layout ??= await probeHostLayout();
  const a = areas(workspace);
  seccompFile ??= await writeSeccompProgram(a.etcDir);
  mechanism ??= (await detectLimitMechanism(serverIsRoot())).mechanism;
  const identity = allocateIdentity();
  const limits = await prepareLimits("floor", identity, 512, mechanism);
  try {
    const launch = await prepareLaunch({
      name: "floor",
      bwrapPath: "/usr/bin/bwrap",
      identity,
      limits,
      seccompFile,
      etcFiles: [{ host: `${a.etcDir}/passwd`, guest: "/etc/passwd" }],
      home: a.homeDir,
      dotSandbox: a.dotSandboxDir,
      volumes: [{ host: workspace, guest: "/workspace", readonly: false }],
      plan: {
        name: "floor",
        layout,
        extraRoDirs,
        env: [["PATH", "/usr/local/bin:/usr/bin:/bin"]],
        workdir: "/workspace",
        tmpfsBytes: tmpfsBytes(512),
        command,
      },
    });
    try {
      await run(launch.command, launch.args, { env: {}, fds: launch.fds });
    } finally {
      await launch.close();
    }
  } finally {
    await limits.cleanup();
    identity.release();
  }
}

/** bwrap + python3 through the contained start path (uid switch, idmap as root, fd binds, seccomp, limits). */
export function spawnPythonContained(workspace, code = "pass") {
  return spawnContained(workspace, [pythonPath(), "-c", code]);
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
