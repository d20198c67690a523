// Which environments let a pooled sandbox keep the Python REPL it started while waiting
// (docs/dev-server.md#pool). That driver got the pool's base environment at its start and gets the
// sandbox's own at attach (os.environ, the C environment, the working folder), which is all a
// driver started after attach would differ in, except what the interpreter and the C library read
// once, at start-up. A variable of that kind set to anything but the base value means a fresh
// driver instead, started at the first run as in a cold sandbox.

/**
 * Read at start-up only: Python's own settings (PYTHON*: flags, paths, hash seed, I/O encoding),
 * locale (LANG, LANGUAGE, LC_*), time zone (TZ, for a `time` imported at start), HOME (the user
 * site folder put on sys.path by `site`) and the dynamic loader's and allocator's (LD_*, MALLOC_*,
 * GLIBC_TUNABLES).
 */
const READ_AT_STARTUP = /^(PYTHON|LC_|LD_|MALLOC_)|^(LANG|LANGUAGE|TZ|HOME|GLIBC_TUNABLES)$/;

/** True when a driver started with `base` and given `final` at attach is the one `final` would start. */
export function parkedReplFits(base: ReadonlyArray<[string, string]>, final: ReadonlyArray<[string, string]>): boolean {
  const before = new Map(base);
  const after = new Map(final);
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    if (before.get(key) !== after.get(key) && READ_AT_STARTUP.test(key)) return false;
  }
  return true;
}
