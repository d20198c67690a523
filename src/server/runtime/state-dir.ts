import type { Dirent } from "node:fs";
import { lstat, mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { DevServerError, ErrorCodes, HostPathError, InvalidOptionError } from "../../errors/index.js";
import { writeFileAtomic } from "../../fs/atomic-write.js";
import { isValidSandboxName, SANDBOX_NAME_RULE } from "../../names/sandbox-name.js";
import { seccompProgram } from "./containment/seccomp-filter.js";

// Layout under stateDir (nothing here is reachable from a sandbox except <name>/rw/root,
// <name>/rw/home and <name>/rw/sandbox, which are bound at /, /home and /.sandbox):
//   .runtime-etc/{passwd,group,hosts}   minimal /etc files shared read-only by every sandbox
//   <name>/rw/root/                     the sandbox's writable root (bound at /), kept across stop/start
//   <name>/rw/home/                     persistent writable area (default workdirs live here)
//   <name>/rw/sandbox/scripts/<script>  rewritten at every start, like upstream's patch layer

const SCRIPT_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** Names become directory names and hostnames; the runtime re-checks the one name rule as its own guard. */
export function validateSandboxName(name: string): void {
  if (!isValidSandboxName(name)) {
    throw new InvalidOptionError(`Invalid sandbox name "${name}": the dev server runtime accepts ${SANDBOX_NAME_RULE}.`, {
      hint: 'rename the sandbox, e.g. "my-sandbox"',
      details: { name },
    });
  }
}

const ETC_FILES: Record<string, string> = {
  passwd: [
    "root:x:0:0:root:/root:/bin/sh",
    "python-user:x:1000:1000:python-user:/home/python-user:/bin/sh",
    "node:x:1001:1001:node:/home/node:/bin/sh",
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
    "",
  ].join("\n"),
  group: ["root:x:0:", "python-user:x:1000:", "node:x:1001:", "nogroup:x:65534:", ""].join("\n"),
  hosts: "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
};

/** Creates `dir` unless it exists; an existing entry must be a real directory, never a symlink. */
export async function ensureRealDir(dir: string, mode = 0o755): Promise<void> {
  try {
    await mkdir(dir, { mode });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const info = await lstat(dir);
  if (!info.isDirectory() || info.isSymbolicLink()) {
    throw new DevServerError(`Refusing to use "${dir}" as sandbox state: it exists but is not a plain directory (a symlink or file).`, {
      hint: `remove "${dir}" and start the sandbox again`,
      details: { path: dir },
    });
  }
}

/** Creates the state dir and the shared minimal /etc files; returns the /etc files' directory. */
export async function prepareStateDir(stateDir: string): Promise<string> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const etcDir = path.join(stateDir, ".runtime-etc");
  await ensureRealDir(etcDir);
  for (const [file, content] of Object.entries(ETC_FILES)) {
    // Atomic so concurrent runtimes on one state dir never see a half-written file.
    await writeFileAtomic(path.join(etcDir, file), content);
  }
  return etcDir;
}

/** Writes the seccomp program next to the /etc files (atomically); returns its path. */
export async function writeSeccompProgram(etcDir: string): Promise<string> {
  const file = path.join(etcDir, `seccomp-${process.arch}.bpf`);
  await writeFileAtomic(file, seccompProgram(), { mode: 0o644 });
  return file;
}

export interface SandboxDirs {
  /** stateDir/<name>: never bound into the sandbox. */
  root: string;
  /** stateDir/<name>/rw: the writable area whose size is reported as disk usage. */
  rw: string;
  /** Bound read-write at / (repaired by root-layer.ts before each start). */
  rootfs: string;
  /** Bound read-write at /home. */
  home: string;
  /** Bound read-write at /.sandbox; recreated at each start. */
  dotSandbox: string;
}

/**
 * Prepares a sandbox's directories. Runs only while the sandbox is stopped, so nothing inside can
 * race it; every step still refuses symlinks because the sandbox wrote these trees last time.
 */
export async function prepareSandboxDirs(
  stateDir: string,
  name: string,
  scripts: Record<string, string> | undefined,
  shell: string | undefined,
): Promise<SandboxDirs> {
  const dirs = sandboxDirs(path.join(stateDir, name));
  const { root, rw, home, dotSandbox, rootfs } = dirs;
  for (const dir of [root, rw, home, rootfs]) await ensureRealDir(dir, 0o755);
  // fs.rm removes a planted symlink itself, never its target.
  await rm(dotSandbox, { recursive: true, force: true });
  await ensureRealDir(dotSandbox, 0o755);
  await ensureRealDir(path.join(dotSandbox, "scripts"), 0o755);
  await writeScripts(dotSandbox, name, scripts, shell);
  return dirs;
}

/** The layout under one sandbox's state folder (see the top of this file). */
function sandboxDirs(root: string): SandboxDirs {
  const rw = path.join(root, "rw");
  return { root, rw, home: path.join(rw, "home"), dotSandbox: path.join(rw, "sandbox"), rootfs: path.join(rw, "root") };
}

/**
 * Makes a pooled sandbox's slot folders the state of `name` (pool/warm-pool.ts): one rename, so the
 * folders bound into the running sandbox become the name's, kept across stop/start like any other.
 * Only for a name without state: an existing folder is never replaced or merged (the rename fails
 * on a non-empty one). Then the start's scripts are written, as prepareSandboxDirs does.
 */
export async function adoptSandboxDirs(
  stateDir: string,
  slot: SandboxDirs,
  name: string,
  scripts: Record<string, string> | undefined,
  shell: string | undefined,
): Promise<SandboxDirs> {
  const dirs = sandboxDirs(path.join(stateDir, name));
  await rename(slot.root, dirs.root);
  await writeScripts(dirs.dotSandbox, name, scripts, shell);
  return dirs;
}

/** Writes the start's scripts into <dotSandbox>/scripts (which exists and is empty). */
async function writeScripts(dotSandbox: string, name: string, scripts: Record<string, string> | undefined, shell: string | undefined): Promise<void> {
  const scriptsDir = path.join(dotSandbox, "scripts");
  const interpreter = shell?.trim() ? shell.trim() : "/bin/sh";
  for (const [scriptName, body] of Object.entries(scripts ?? {})) {
    if (!SCRIPT_NAME_PATTERN.test(scriptName)) {
      throw new InvalidOptionError(
        `Invalid script name "${scriptName}" for sandbox "${name}": script names become file names under /.sandbox/scripts and may only use A-Z a-z 0-9 . _ -.`,
        {
          hint: "rename the script",
          details: { sandbox: name, script: scriptName },
        },
      );
    }
    await writeFile(path.join(scriptsDir, scriptName), `#!${interpreter}\n${body}`, { mode: 0o750, flag: "wx" });
  }
}

/**
 * Checks that no existing component of `relative` below `base` (the host folder shown at `guestBase`
 * in the sandbox) is a symlink. bubblewrap creates mount points by path during setup, so a symlink the
 * sandbox planted in its writable area could otherwise steer a later mount point (and the directories
 * created for it) outside the sandbox. The refusal names the guest path: it reaches the caller
 * (a 400 of sandbox.start), and `base` may be the server's own state (the sandbox's /home); the host
 * path goes to `details` only.
 */
export async function assertNoSymlinkBelow(base: string, guestBase: string, relative: string, what: string): Promise<void> {
  let current = base;
  let guest = guestBase;
  for (const part of relative.split("/").filter(Boolean)) {
    current = path.join(current, part);
    guest = path.posix.join(guest, part);
    let info: Awaited<ReturnType<typeof lstat>>;
    try {
      info = await lstat(current);
    } catch {
      return; // the rest does not exist yet; bubblewrap will create plain directories
    }
    if (info.isSymbolicLink() || !info.isDirectory()) {
      throw new HostPathError(
        ErrorCodes.HOST_PATH_DENIED,
        `Cannot mount ${what}: "${guest}" in the sandbox is a symlink or file, written by the sandbox; mounting through it could escape the sandbox.`,
        {
          hint: `delete "${guest}" in the sandbox (or choose another guest path) and start the sandbox again`,
          details: { path: current, guest },
        },
      );
    }
  }
}

/** Bytes used by the files under `dir`, counted without following symlinks. */
export async function diskUsage(dir: string): Promise<number> {
  let total = 0;
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop() as string;
    let entries: Dirent[];
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      try {
        const info = await lstat(full);
        total += info.size;
        if (info.isDirectory()) pending.push(full);
      } catch {
        // vanished while walking: the sandbox is running and may delete files
      }
    }
  }
  return total;
}
