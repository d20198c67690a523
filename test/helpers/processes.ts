import { access, readdir, readFile, readlink } from "node:fs/promises";

// /proc scans shared by the end-to-end suites that prove "no process left behind" and PID isolation.

/** Host processes (other than this one) whose command line contains `needle` (e.g. a test's temp dir). */
export async function processesMentioning(needle: string): Promise<number[]> {
  const hits: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, "utf8")).replaceAll("\0", " ");
      if (cmdline.includes(needle)) hits.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return hits;
}

/**
 * Host processes mentioning `needle` that belong to sandboxes someone started: the processes of a
 * pre-started sandbox still waiting in the pool (src/server/runtime/pool) are left out. Their command
 * line names their slot folder `<state>/.pool-<hex>`, which exists exactly while they wait: a claim
 * renames it to the sandbox's name, so a claimed sandbox left behind is still counted.
 */
export async function sandboxProcessesMentioning(needle: string): Promise<number[]> {
  const hits: number[] = [];
  for (const pid of await processesMentioning(needle)) {
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).replaceAll("\0", " ");
    // Anywhere in the command line: bwrap names the slot as a path of its own, the root launcher inside
    // the JSON of its spec (until it execs bwrap), so the match stops at quotes as well as spaces.
    const slot = /(\/[^\s"']*\/\.pool-[0-9a-f]+)(?=[\s"'/]|$)/.exec(cmdline)?.[1];
    if (
      slot !== undefined &&
      (await access(slot).then(
        () => true,
        () => false,
      ))
    )
      continue;
    hits.push(pid);
  }
  return hits;
}

/** PID-namespace ids (e.g. "pid:[4026532181]") of the given processes. */
export async function pidNamespaces(pids: readonly number[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const pid of pids) {
    const ns = await readlink(`/proc/${pid}/ns/pid`).catch(() => undefined);
    if (ns !== undefined) out.add(ns);
  }
  return out;
}

/** Now, in the clock ticks since boot that /proc/<pid>/stat uses for a process's start time. */
export async function bootTicksNow(): Promise<number> {
  return Math.floor(Number((await readFile("/proc/uptime", "utf8")).split(" ")[0]) * 100);
}

/**
 * Live (non-zombie) host processes inside one of `namespaces`. The kernel reuses a namespace's id once
 * it is gone, and other test files start sandboxes meanwhile: pass `startedBefore` (bootTicksNow()
 * taken before teardown) so a later sandbox that got a recycled id is not counted as a leftover.
 */
export async function processesInNamespaces(namespaces: ReadonlySet<string>, startedBefore?: number): Promise<number[]> {
  const hits: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!namespaces.has(await readlink(`/proc/${entry}/ns/pid`))) continue;
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // fields[0] is the state (field 3 of stat); fields[19] is the start time (field 22).
      if (startedBefore !== undefined && Number(fields[19]) > startedBefore) continue;
      if (fields[0] !== "Z") hits.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return hits;
}
