// Temp dirs for one bench run; every one is removed by cleanupTmp() (called from run.mjs's finally).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const created = new Set();

/** @param {string} prefix */
export async function makeTmp(prefix) {
  const dir = await mkdtemp(join(tmpdir(), `msbv-bench-${prefix}-`));
  created.add(dir);
  return dir;
}

export async function cleanupTmp() {
  for (const dir of created) await rm(dir, { recursive: true, force: true });
  created.clear();
}
