import { gunzipSync, gzipSync } from "node:zlib";
import { PRELUDE } from "./sandbox-shell.js";

// gzip for sync transfers (both routes). Only what travels is compressed: every SHA-256 check is over the
// uncompressed bytes. Level 1, and only when a leading sample shrinks, because gzip costs CPU on
// incompressible data (media, archives) for nothing.

/** Compress when the sample compresses to at most this fraction. */
export const COMPRESS_RATIO = 0.8;
/** Size of the sample, and the least a file must have before compression is considered. */
export const SAMPLE_BYTES = 1024 * 1024;

/** Sandbox side: `gunzip SRC into DEST`, removing SRC. */
export const GUNZIP_SCRIPT = `${PRELUDE}gzip -dc < "$1" > "$2"\nrm -f "$1"\n`;

/** `data` gzipped when that is worth it (larger than one sample, and the sample shrinks), else undefined. */
export function gzipIfWorth(data: Buffer): Buffer | undefined {
  if (data.length <= SAMPLE_BYTES) return undefined;
  const sample = data.subarray(0, SAMPLE_BYTES);
  if (gzipSync(sample, { level: 1 }).length > sample.length * COMPRESS_RATIO) return undefined;
  const packed = gzipSync(data, { level: 1 });
  return packed.length < data.length ? packed : undefined;
}

/**
 * Inflates gzip data from the sandbox, never past `expected` bytes (a gzip bomb stops there). Returns
 * undefined, with the reason, when it does not inflate to exactly `expected` bytes.
 */
export function inflateExactly(wire: Buffer, expected: number): { data: Buffer } | { problem: string } {
  let data: Buffer;
  try {
    data = gunzipSync(wire, { maxOutputLength: Math.max(expected, 1) });
  } catch (err) {
    return { problem: `the gzip data does not inflate to ${expected} bytes: ${err instanceof Error ? err.message : String(err)}` };
  }
  return data.length === expected ? { data } : { problem: `${data.length} bytes inflated, ${expected} expected` };
}
