import { DevServerError } from "../../errors/index.js";
import { PYTHON_CANDIDATES } from "./interpreters.js";
import { constants } from "node:fs";
import { access } from "node:fs/promises";

// bubblewrap passes every open file descriptor without close-on-exec into the sandbox, and the
// server may have inherited some from whoever started it (a pipe from a supervisor, a directory
// fd...). A leaked directory fd is a classic way out of a chroot, so bwrap is started through a
// tiny wrapper that closes every inherited descriptor above 2 and then execs bwrap in the same
// process. (Node marks an inherited fd 3 close-on-exec at startup, which is why bwrap's
// --info-fd is not used: bwrap's init is found as its only child instead.)

const NODE_WRAPPER = String.raw`
const fs = require("node:fs");
const keep = new Set(process.argv[1].split(",").filter(Boolean).map(Number));
for (const entry of fs.readdirSync("/proc/self/fd")) {
  const fd = Number(entry);
  if (!(fd > 2) || keep.has(fd)) continue;
  try {
    const flags = Number.parseInt(/flags:\s*([0-7]+)/.exec(fs.readFileSync("/proc/self/fdinfo/" + entry, "utf8"))[1], 8);
    // Descriptors with O_CLOEXEC (Node's own) close at exec anyway; close only inherited ones.
    if ((flags & 0o2000000) === 0) fs.closeSync(fd);
  } catch {}
}
process.execve(process.argv[2], process.argv.slice(2), process.env);
`;

const PYTHON_WRAPPER = [
  "import os, sys",
  "keep = sorted(int(fd) for fd in sys.argv[1].split(',') if fd)",
  "last = 3",
  "for fd in keep:",
  "    if fd > last: os.closerange(last, fd)",
  "    os.set_inheritable(fd, True)",
  "    last = fd + 1",
  "os.closerange(last, 1 << 20)",
  "os.execv(sys.argv[2], sys.argv[2:])",
].join("\n");

/**
 * The command that starts `program args...` with no inherited descriptor above 2 except `keep`
 * (the descriptors the server passes on purpose, in spawn's stdio slots).
 */
export async function cleanFdCommand(
  program: string,
  args: readonly string[],
  keep: readonly number[] = [],
): Promise<{ command: string; args: string[] }> {
  const keepArg = keep.join(",");
  // Node marks the low descriptors it inherits (the stdio slots 3.. among them) close-on-exec at
  // startup, so the Node wrapper cannot hand `keep` on through execve: the Python one can clear the flag.
  if (keep.length === 0 && typeof (process as { execve?: unknown }).execve === "function") {
    return { command: process.execPath, args: ["--no-warnings", "-e", NODE_WRAPPER, keepArg, program, ...args] };
  }
  for (const python of PYTHON_CANDIDATES) {
    try {
      await access(python, constants.X_OK);
      return { command: python, args: ["-I", "-c", PYTHON_WRAPPER, keepArg, program, ...args] };
    } catch {
      // try the next one
    }
  }
  if (keep.length > 0) {
    // Node marks only low inherited descriptors close-on-exec, so starting `program` directly could
    // leak a high one (a directory fd is a way out of the sandbox): refuse instead.
    throw new DevServerError(
      "Cannot start a sandbox safely: handing the volume descriptors to bubblewrap while closing every other inherited descriptor needs a system python3 (/usr/bin/python3).",
      {
        hint: "install python3 (`apt-get install python3`)",
      },
    );
  }
  throw new DevServerError(
    "Cannot start a sandbox safely: closing inherited file descriptors before bubblewrap needs Node.js >= 22.15 (process.execve) or a system python3.",
    {
      hint: "run the dev server with Node.js 22.15 or newer, or install python3",
    },
  );
}
