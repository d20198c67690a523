// The round-trip workload, written identically by the host floor (Node) and by sandbox code
// (Python): 1,000 files of 1 KiB each, and one 64 MiB file. Contents are deterministic so the
// host can check what it reads back.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const SMALL_COUNT = 1000;
export const SMALL_SIZE = 1024;
export const LARGE_SIZE = 64 * 1024 * 1024;

/** @typedef {"small" | "large"} Scenario */

/** Bytes a scenario moves. @param {Scenario} s */
export const scenarioBytes = (s) => (s === "small" ? SMALL_COUNT * SMALL_SIZE : LARGE_SIZE);

/** Python run once per REPL (untimed) so the timed part only writes, as the Node floor does. */
export const PY_SETUP = `import os, shutil
_BIG = bytes(range(256)) * ${LARGE_SIZE / 256}
def _write_small(d):
    os.makedirs(d, exist_ok=True)
    for i in range(${SMALL_COUNT}):
        with open(f"{d}/s{i:04d}.bin", "wb") as f:
            f.write(f"{i:08d}".encode() * ${SMALL_SIZE / 8})
def _write_large(d):
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/large.bin", "wb") as f:
        f.write(_BIG)
`;

/** @param {Scenario} s @param {string} dir guest dir */
export const pyWrite = (s, dir) => (s === "small" ? `_write_small(${JSON.stringify(dir)})` : `_write_large(${JSON.stringify(dir)})`);

/** @param {string} dir guest dir */
export const pyClean = (dir) => `shutil.rmtree(${JSON.stringify(dir)}, ignore_errors=True)`;

let bigBuf;
const smallBuf = (i) =>
  Buffer.from(
    String(i)
      .padStart(8, "0")
      .repeat(SMALL_SIZE / 8),
  );

/** Preallocates the large buffer so the timed floor only writes (as the Python side does). */
export function prepareHostBuffers() {
  if (bigBuf) return;
  bigBuf = Buffer.allocUnsafe(LARGE_SIZE);
  for (let i = 0; i < LARGE_SIZE; i++) bigBuf[i] = i & 255;
}

/** The floor: the host writes the same bytes itself. @param {Scenario} s @param {string} dir */
export function hostWrite(s, dir) {
  mkdirSync(dir, { recursive: true });
  if (s === "small") {
    for (let i = 0; i < SMALL_COUNT; i++) writeFileSync(join(dir, `s${String(i).padStart(4, "0")}.bin`), smallBuf(i));
  } else {
    prepareHostBuffers();
    writeFileSync(join(dir, "large.bin"), bigBuf);
  }
}

/**
 * The host reads everything back (timed in every method) and spot-checks contents.
 * @param {Scenario} s @param {string} dir
 * @returns {number} bytes read
 */
export function hostReadBack(s, dir) {
  let total = 0;
  if (s === "small") {
    for (let i = 0; i < SMALL_COUNT; i++) {
      const b = readFileSync(join(dir, `s${String(i).padStart(4, "0")}.bin`));
      if (b.length !== SMALL_SIZE || b.toString("latin1", 0, 8) !== String(i).padStart(8, "0")) {
        throw new Error(`read-back mismatch in ${dir}/s${i}: ${b.length} bytes`);
      }
      total += b.length;
    }
  } else {
    const b = readFileSync(join(dir, "large.bin"));
    if (b.length !== LARGE_SIZE || b[LARGE_SIZE - 1] !== 255 || b[1000] !== 1000 % 256) {
      throw new Error(`read-back mismatch in ${dir}/large.bin: ${b.length} bytes`);
    }
    total += b.length;
  }
  return total;
}
