// The machine a run happened on, recorded next to its numbers.
import { execFileSync } from "node:child_process";
import { cpus, release, totalmem } from "node:os";
import { readFileSync } from "node:fs";

const tryRun = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
      .trim()
      .split("\n")[0];
  } catch {
    return "unknown";
  }
};

export function machineInfo() {
  let os = "unknown";
  try {
    os = readFileSync("/etc/os-release", "utf8").match(/^PRETTY_NAME="?([^"\n]+)/m)?.[1] ?? os;
  } catch {
    // not Linux
  }
  const c = cpus();
  return {
    cpu: c[0]?.model?.trim() ?? "unknown",
    cores: c.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os,
    kernel: release(),
    node: process.version,
    bubblewrap: tryRun("bwrap", ["--version"]),
    python: tryRun("/usr/bin/python3", ["--version"]),
  };
}
