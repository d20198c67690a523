import { constants } from "node:fs";
import { access } from "node:fs/promises";
import * as path from "node:path";

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds the bubblewrap binary: `MSBV_BWRAP` if set, then every `PATH` entry, then the usual
 * system locations. Resolves `undefined` when none is executable.
 */
export async function findBwrap(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const candidates: string[] = [];
  if (env["MSBV_BWRAP"]) candidates.push(env["MSBV_BWRAP"]);
  for (const dir of (env["PATH"] ?? "").split(path.delimiter)) {
    if (dir && path.isAbsolute(dir)) candidates.push(path.join(dir, "bwrap"));
  }
  candidates.push("/usr/bin/bwrap", "/bin/bwrap", "/usr/local/bin/bwrap");
  for (const candidate of candidates) {
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}
