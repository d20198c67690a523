import { readdirSync, readFileSync } from "node:fs";
import { readFile, readdir } from "node:fs/promises";

/** The fields of /proc/<pid>/stat this runtime needs. */
export interface ProcStat {
  pid: number;
  ppid: number;
  /** One-letter state (R, S, D, Z, ...). */
  state: string;
  /** utime + stime in clock ticks. */
  cpuTicks: number;
  /** Start time in clock ticks since boot; with the pid it identifies a process across pid reuse. */
  startTime: number;
}

/** Linux fixes USER_HZ at 100 for the tick counts in /proc, whatever the kernel's HZ. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** Parses one /proc/<pid>/stat line; the command name may contain spaces and parentheses. */
export function parseStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const pid = Number.parseInt(text, 10);
  // Fields after the comm: state(3) ppid(4) ... utime(14) stime(15) ... starttime(22).
  const rest = text.slice(close + 2).split(" ");
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const startTime = Number(rest[19]);
  if (![pid, ppid, utime, stime, startTime].every(Number.isFinite)) return undefined;
  return { pid, ppid, state: rest[0] ?? "?", cpuTicks: utime + stime, startTime };
}

/** Every process on the host (the ones that vanish while reading are skipped). */
export async function readProcTable(): Promise<Map<number, ProcStat>> {
  const table = new Map<number, ProcStat>();
  const entries = await readdir("/proc");
  await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry))
      .map(async (entry) => {
        try {
          const stat = parseStat(await readFile(`/proc/${entry}/stat`, "utf8"));
          if (stat) table.set(stat.pid, stat);
        } catch {
          // exited meanwhile
        }
      }),
  );
  return table;
}

/** Resident set size of one process in KiB (0 when it is gone or a kernel thread). */
export async function rssKiB(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** True while `stat.pid` still names the same, not yet dead process (not a reused pid, not a zombie). */
export async function stillAlive(stat: ProcStat): Promise<boolean> {
  const now = parseStat(readProcFile(`/proc/${stat.pid}/stat`));
  return now !== undefined && now.startTime === stat.startTime && now.state !== "Z" && now.state !== "X";
}

/**
 * Leftover bubblewrap inits of one sandbox: live processes whose command line is exactly `argv`
 * and whose parent is not a bwrap with that same command line (which would make them the init of
 * a sandbox still running) nor this process (which would make them our own live bwrap).
 * bubblewrap's init is a fork of bwrap with the same command line; if bwrap dies during setup,
 * before the init armed its parent-death signal, the init is re-parented and waits forever.
 * The argv names the sandbox's own state directory, so nothing else can match.
 */
export async function orphansWithArgv(argv: readonly string[]): Promise<ProcStat[]> {
  const wanted = `${argv.join("\0")}\0`;
  const table = await readProcTable();
  const cmdline = async (pid: number): Promise<string | undefined> => readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => undefined);
  const out: ProcStat[] = [];
  for (const stat of table.values()) {
    if (stat.state === "Z" || stat.ppid === process.pid || (await cmdline(stat.pid)) !== wanted) continue;
    if ((await cmdline(stat.ppid)) !== wanted) out.push(stat);
  }
  return out;
}

/**
 * A small /proc file read synchronously ("" once the process is gone). /proc answers from kernel
 * memory, never the disk, so a synchronous read costs microseconds, while the promise form takes
 * four trips through libuv's four-thread pool, where a burst of starts queues them behind fsyncs.
 */
function readProcFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/** Direct children of `pid`, from every one of its threads' `children` files (proc(5)); [] once gone. */
function childPids(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((tid) => readProcFile(`/proc/${pid}/task/${tid}/children`).split(" ").filter(Boolean).map(Number));
}

/**
 * `root` and all its descendants, found by walking down from `root` only: a sandbox's few processes
 * cost a few reads, however many other processes the host runs (readProcTable reads them all).
 */
export async function processTree(root: number): Promise<number[]> {
  const out: number[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop() as number;
    out.push(pid);
    pending.push(...childPids(pid));
  }
  return out;
}

/** {@link processTree} with each process's stat (the ones that exit meanwhile are skipped). */
export async function processTreeStats(root: number): Promise<ProcStat[]> {
  const stats = (await processTree(root)).map((pid) => parseStat(readProcFile(`/proc/${pid}/stat`)));
  return stats.filter((stat): stat is ProcStat => stat !== undefined);
}
