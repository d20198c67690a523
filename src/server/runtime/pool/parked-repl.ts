import { isSameOrInside } from "../../../volumes/guest-paths.js";

// Which sandboxes let a pooled sandbox keep the Python REPL it started while waiting
// (docs/dev-server.md#pool). That driver got the pool's base environment at its start and gets the
// sandbox's own at attach (os.environ, the C environment, the working folder), which is all a
// driver started after attach would differ in, except what the interpreter and the C library read
// once, at start-up: a variable of that kind set to anything but the base value, or a folder
// `site` looks at that the sandbox's volumes or workdir make or fill, means a fresh driver
// instead, started at the first run as in a cold sandbox.

/**
 * Read at start-up only: Python's own settings (PYTHON*: flags, paths, hash seed, I/O encoding),
 * locale (LANG, LANGUAGE, LC_*), time zone (TZ, for a `time` imported at start), HOME (the user
 * site folder put on sys.path by `site`) and the dynamic loader's and allocator's (LD_*, MALLOC_*,
 * GLIBC_TUNABLES).
 */
const READ_AT_STARTUP = /^(PYTHON|LC_|LD_|MALLOC_)|^(LANG|LANGUAGE|TZ|HOME|GLIBC_TUNABLES)$/;

/** What of the sandbox exists before a cold sandbox's REPL starts but after a parked one did. */
export interface SandboxFolders {
  /** The workdir (made before the REPL starts, `mkdir -p`). */
  workdir: string;
  /** Guest paths of the volumes (normalised, as volume-checks.ts requires). */
  volumes: readonly string[];
}

/**
 * True when a driver started with `base` and given `final` at attach is the one `final` would start.
 * `site` adds the user site folder (`$HOME/.local/lib/pythonX.Y/site-packages`) to sys.path, and
 * runs its .pth files and `usercustomize`, only when it exists at start-up: a volume at, above or
 * inside `$HOME/.local`, or a workdir inside it, can make it exist for a cold REPL and not for the
 * parked one, which started before the volumes were mounted and the workdir made.
 */
export function parkedReplFits(base: ReadonlyArray<[string, string]>, final: ReadonlyArray<[string, string]>, folders: SandboxFolders): boolean {
  const before = new Map(base);
  const after = new Map(final);
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    if (before.get(key) !== after.get(key) && READ_AT_STARTUP.test(key)) return false;
  }
  const home = after.get("HOME");
  // Without HOME (never the case: it is in the base, and removing it is a difference above) `site`
  // would ask the password database: keep nothing that cannot be reasoned about.
  if (!home?.startsWith("/")) return false;
  const userBase = `${home.replace(/\/+$/, "")}/.local`;
  if (isSameOrInside(folders.workdir, userBase)) return false;
  return !folders.volumes.some((guest) => isSameOrInside(guest, userBase) || isSameOrInside(userBase, guest));
}
