import type { Stats } from "node:fs";
import { chmod, lstat, rm, stat } from "node:fs/promises";
import * as path from "node:path";
import { DevServerError } from "../../errors/index.js";

// The sandbox's root is a persistent host folder (<state>/<name>/rw/root), as a microVM's writable
// layer is kept across stop/start of the same name. The sandbox wrote that tree last time, and
// bubblewrap creates mount points and symlinks in it BY PATH while setting up: a symlink planted at
// a mount point (say /opt -> /oldroot/home/me) would steer that mkdir or mount onto the host. So,
// while the sandbox is stopped (nothing in it runs, no race), every destination bubblewrap will
// touch is repaired first: symlinks and wrong-kind entries on the way are removed.

type DestKind = "dir" | "file" | "symlink" | "any";

/** Options without a destination, by argument count (bubblewrap 0.8). */
const NO_DEST: Record<string, number> = {
  ...Object.fromEntries(
    [
      "--unshare-all",
      "--unshare-user",
      "--unshare-user-try",
      "--unshare-ipc",
      "--unshare-pid",
      "--unshare-net",
      "--unshare-uts",
      "--unshare-cgroup",
      "--unshare-cgroup-try",
      "--share-net",
      "--die-with-parent",
      "--new-session",
      "--as-pid-1",
      "--clearenv",
      "--disable-userns",
      "--assert-userns-disabled",
    ].map((o) => [o, 0]),
  ),
  ...Object.fromEntries(
    [
      "--args",
      "--argv0",
      "--userns",
      "--userns2",
      "--pidns",
      "--uid",
      "--gid",
      "--hostname",
      "--chdir",
      "--unsetenv",
      "--exec-label",
      "--file-label",
      "--sync-fd",
      "--block-fd",
      "--userns-block-fd",
      "--info-fd",
      "--json-status-fd",
      "--seccomp",
      "--add-seccomp-fd",
      "--cap-add",
      "--cap-drop",
      "--perms",
      "--size",
      "--level-prefix",
      "--overlay-src",
    ].map((o) => [o, 1]),
  ),
  "--setenv": 2,
};

/** Options that create or mount something: argument count and which argument is the destination. */
const WITH_DEST: Record<string, { arity: number; dest: number; kind: DestKind | "source" }> = {
  "--dir": { arity: 1, dest: 0, kind: "dir" },
  "--tmpfs": { arity: 1, dest: 0, kind: "dir" },
  "--proc": { arity: 1, dest: 0, kind: "dir" },
  "--dev": { arity: 1, dest: 0, kind: "dir" },
  "--mqueue": { arity: 1, dest: 0, kind: "dir" },
  "--tmp-overlay": { arity: 1, dest: 0, kind: "dir" },
  "--ro-overlay": { arity: 1, dest: 0, kind: "dir" },
  "--overlay": { arity: 3, dest: 2, kind: "dir" },
  "--remount-ro": { arity: 1, dest: 0, kind: "any" },
  "--lock-file": { arity: 1, dest: 0, kind: "any" },
  "--chmod": { arity: 2, dest: 1, kind: "any" },
  "--symlink": { arity: 2, dest: 1, kind: "symlink" },
  "--file": { arity: 2, dest: 1, kind: "file" },
  "--bind-data": { arity: 2, dest: 1, kind: "file" },
  "--ro-bind-data": { arity: 2, dest: 1, kind: "file" },
  "--bind-fd": { arity: 2, dest: 1, kind: "any" },
  "--ro-bind-fd": { arity: 2, dest: 1, kind: "any" },
  "--bind": { arity: 2, dest: 1, kind: "source" },
  "--ro-bind": { arity: 2, dest: 1, kind: "source" },
  "--dev-bind": { arity: 2, dest: 1, kind: "source" },
  "--bind-try": { arity: 2, dest: 1, kind: "source" },
  "--ro-bind-try": { arity: 2, dest: 1, kind: "source" },
  "--dev-bind-try": { arity: 2, dest: 1, kind: "source" },
};

/** Every guest path bubblewrap will create or mount on, with the kind of entry it needs there. */
export async function bwrapDestinations(args: readonly string[]): Promise<Array<{ dest: string; kind: DestKind }>> {
  const out: Array<{ dest: string; kind: DestKind }> = [];
  for (let i = 0; i < args.length; ) {
    const option = args[i]!;
    if (option === "--") break;
    const plain = NO_DEST[option];
    if (plain !== undefined) {
      i += 1 + plain;
      continue;
    }
    const spec = WITH_DEST[option];
    if (!spec) {
      // Fail closed: an option this table does not know might create something in the root.
      throw new DevServerError(`The sandbox's bubblewrap command line has an option the root-layer check does not know: ${option}.`, {
        hint: "add the option to src/server/runtime/root-layer.ts",
      });
    }
    const dest = args[i + 1 + spec.dest]!;
    let kind: DestKind;
    if (spec.kind === "source") {
      const source = await stat(args[i + 1]!).catch(() => undefined);
      kind = source === undefined ? "any" : source.isDirectory() ? "dir" : "file";
    } else {
      kind = spec.kind;
    }
    out.push({ dest, kind });
    i += 1 + spec.arity;
  }
  return out;
}

/**
 * Makes `rootDir` safe for the next bubblewrap run of `args` (whose `/` is `rootDir`). Only call it
 * while the sandbox is stopped. Symlinks left at a destination are always removed: bubblewrap
 * recreates its own and refuses to make a symlink where one exists.
 */
export async function repairRootLayer(rootDir: string, args: readonly string[]): Promise<void> {
  // The sandbox's uid 0 has no capabilities, so a folder it made unsearchable (chmod 000) would stop
  // its own next start, and, with the server as an ordinary user (the same uid), would hide a planted
  // link from this check while bubblewrap (uid 0 with capabilities in its namespace) still passes it.
  await ownerAccess(rootDir);
  for (const { dest, kind } of await bwrapDestinations(args)) {
    if (!path.posix.isAbsolute(dest) || dest.split("/").includes("..")) continue;
    const parts = dest.split("/").filter(Boolean);
    let current = rootDir;
    for (let i = 0; i < parts.length; i++) {
      current = path.join(current, parts[i]!);
      const info = await lstatIfExists(current);
      if (!info) break; // the rest does not exist; bubblewrap makes plain directories
      const last = i === parts.length - 1;
      const wrong = last
        ? info.isSymbolicLink() || (kind === "dir" && !info.isDirectory()) || (kind === "file" && info.isDirectory())
        : info.isSymbolicLink() || !info.isDirectory();
      if (wrong) {
        // fs.rm removes a symlink itself, never its target.
        await rm(current, { recursive: true, force: true });
        break;
      }
      if (!last) await ownerAccess(current, info.mode);
    }
  }
}

/** lstat, undefined when nothing is there; any other failure stops the start (fail closed). */
async function lstatIfExists(entry: string): Promise<Stats | undefined> {
  try {
    return await lstat(entry);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    throw new DevServerError(`Cannot check the sandbox's root layer at "${entry}" before its start (${code ?? String(error)}).`, {
      hint: "stop the sandbox and remove its state folder (<project>/.menv/<name>/rw/root), then start it again",
      cause: error,
    });
  }
}

/**
 * Gives the owner rwx on a folder already checked to be a real folder (the layer itself is reached
 * through /proc/self/fd, hence stat there). Nothing runs in the stopped sandbox, so no race.
 */
async function ownerAccess(dir: string, mode?: number): Promise<void> {
  const bits = (mode ?? (await stat(dir)).mode) & 0o7777;
  if ((bits & 0o700) !== 0o700) await chmod(dir, bits | 0o700);
}
