import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { gzipIfWorth, inflateExactly, SAMPLE_BYTES } from "../../../src/sync/compression.js";

describe("sync compression", () => {
  it("compresses only data larger than the sample whose sample shrinks", () => {
    const text = Buffer.from("repetitive source line\n".repeat(100_000));
    const packed = gzipIfWorth(text);
    expect(packed?.length).toBeLessThan(text.length / 10);
    expect(gzipIfWorth(randomBytes(2 * SAMPLE_BYTES))).toBeUndefined();
    expect(gzipIfWorth(Buffer.alloc(SAMPLE_BYTES))).toBeUndefined(); // not larger than the sample
  });

  it("inflates to exactly the expected size and never past it", () => {
    const data = Buffer.from("x".repeat(10_000));
    expect(inflateExactly(gzipSync(data), 10_000)).toEqual({ data });
    expect(inflateExactly(gzipSync(data), 10_001)).toMatchObject({ problem: expect.stringContaining("10000 bytes inflated") });
    // A bomb: 8 MiB of zeros claimed as a 1 KiB part; inflation stops at the bound.
    const bomb = inflateExactly(gzipSync(Buffer.alloc(8 * 1024 * 1024)), 1024);
    expect(bomb).toMatchObject({ problem: expect.stringContaining("does not inflate") });
    expect(inflateExactly(Buffer.from("not gzip"), 10)).toMatchObject({ problem: expect.any(String) });
  });
});
