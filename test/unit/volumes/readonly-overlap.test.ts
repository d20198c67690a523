import { describe, expect, it } from "vitest";
import { readonlyOverlapProblems } from "../../../src/volumes/readonly-overlap.js";

const v = (index: number, host: string, readonly: boolean) => ({ index, source: `${host}:/g${index}`, host, readonly });

describe("readonlyOverlapProblems", () => {
  it("refuses a read-only folder that is, or is inside, a read-write volume's folder", () => {
    expect(readonlyOverlapProblems([v(0, "/p/ws", false), v(1, "/p/ws/ref", true)]).map((p) => p.index)).toEqual([1]);
    expect(readonlyOverlapProblems([v(0, "/p/ws", true), v(1, "/p/ws", false)]).map((p) => p.index)).toEqual([0]);
  });
  it("allows siblings, a read-write folder inside a read-only one, and look-alike prefixes", () => {
    expect(readonlyOverlapProblems([v(0, "/p/ws", false), v(1, "/p/ref", true)])).toEqual([]);
    expect(readonlyOverlapProblems([v(0, "/p/ref", true), v(1, "/p/ref/out", false)])).toEqual([]);
    expect(readonlyOverlapProblems([v(0, "/p/ws", false), v(1, "/p/ws2", true)])).toEqual([]);
  });
});
