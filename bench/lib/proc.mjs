// Cheap memory readings from /proc (Linux only; every reader returns null elsewhere).
import { readFileSync, readdirSync } from "node:fs";

/**
 * A field of /proc/<pid>/status in KiB (e.g. VmHWM = peak RSS, VmRSS = current RSS).
 * @param {number} pid
 * @param {"VmHWM" | "VmRSS"} field
 * @returns {number | null}
 */
export function procStatusKiB(pid, field) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Pids of `root` and all its descendants, from one pass over /proc/<pid>/stat.
 * @param {number} root
 * @returns {number[]}
 */
export function processTree(root) {
  const children = new Map();
  let entries;
  try {
    entries = readdirSync("/proc");
  } catch {
    return [root];
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      // comm may contain spaces and parens; the fields after the last ")" are fixed.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(e));
      children.set(ppid, list);
    } catch {
      // process exited between readdir and read
    }
  }
  const out = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop();
    out.push(pid);
    for (const c of children.get(pid) ?? []) stack.push(c);
  }
  return out;
}

/**
 * Samples the summed RSS of a process tree every `intervalMs` until stopped; returns the peak.
 * @param {number} root
 * @param {number} intervalMs
 */
export function sampleTreeRss(root, intervalMs = 100) {
  let peakKiB = 0;
  let peakProcs = 0;
  const tick = () => {
    const pids = processTree(root);
    let sum = 0;
    for (const p of pids) sum += procStatusKiB(p, "VmRSS") ?? 0;
    if (sum > peakKiB) {
      peakKiB = sum;
      peakProcs = pids.length;
    }
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return {
    /** @returns {{ peakKiB: number, processesAtPeak: number }} */
    stop() {
      clearInterval(timer);
      tick();
      return { peakKiB, processesAtPeak: peakProcs };
    },
  };
}

/**
 * Proportional set size of one process in KiB (/proc/<pid>/smaps_rollup): shared pages (the python and
 * node binaries, libc) are split between the processes that map them, so a sum over processes is the
 * memory they really cost together.
 * @param {number} pid
 * @returns {number | null}
 */
export function procPssKiB(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8").match(/^Pss:\s+(\d+) kB/m);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * RSS and PSS summed over a process tree, now.
 * @param {number} root
 * @returns {{ rssKiB: number, pssKiB: number, processes: number }}
 */
export function treeMemory(root) {
  const pids = processTree(root);
  let rssKiB = 0;
  let pssKiB = 0;
  for (const p of pids) {
    rssKiB += procStatusKiB(p, "VmRSS") ?? 0;
    pssKiB += procPssKiB(p) ?? 0;
  }
  return { rssKiB, pssKiB, processes: pids.length };
}
