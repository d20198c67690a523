import { describe, expect, it } from "vitest";
import { seccompInstructions, seccompProgram } from "../../../../../src/server/runtime/containment/seccomp-filter.js";

// The filter is proven against the kernel by test/e2e/containment/set-id.test.ts; these pin its shape.

describe("seccompProgram", () => {
  it("starts by refusing foreign architectures and the x32 ABI on x64", () => {
    const ins = seccompInstructions("x64");
    expect(ins[0]).toMatchObject({ code: 0x20, k: 4 }); // load arch
    expect(ins[1]).toMatchObject({ code: 0x15, k: 0xc000003e, jt: 1, jf: 0 });
    expect(ins[2]).toMatchObject({ code: 0x06, k: 0x00050000 | 38 }); // ENOSYS
    expect(ins[4]).toMatchObject({ code: 0x35, k: 0x40000000 });
  });

  it("checks the mode register of every chmod and create syscall against S_ISUID|S_ISGID", () => {
    const ins = seccompInstructions("x64");
    const checked = new Map<number, number>();
    ins.forEach((insn, i) => {
      if (insn.code === 0x15 && insn.jf === 4) checked.set(insn.k, ins[i + 1]!.k);
    });
    // syscall number -> offset of the mode argument in seccomp_data (16 + 8 * index)
    expect(Object.fromEntries(checked)).toMatchObject({
      90: 24,
      91: 24,
      268: 32,
      452: 32,
      2: 32,
      257: 40,
      85: 24,
      83: 24,
      258: 32,
      133: 24,
      259: 32,
    });
    for (const [i, insn] of ins.entries()) if (insn.code === 0x45 && insn.k === 0o6000) expect(ins[i + 1]!.k).toBe(0x00050000 | 1);
  });

  it("refuses openat2, clone3 and io_uring outright, and every jump stays inside the program", () => {
    for (const arch of ["x64", "arm64"]) {
      const ins = seccompInstructions(arch);
      const denied = ins.flatMap((insn) => (insn.code === 0x15 && insn.jf === 1 ? [insn.k] : []));
      expect(denied).toEqual(expect.arrayContaining([437, 435, 425, 426, 427]));
      ins.forEach((insn, i) => {
        if ((insn.code & 0x07) === 0x05) expect(i + 1 + Math.max(insn.jt, insn.jf)).toBeLessThan(ins.length);
      });
      expect(ins.at(-1)).toMatchObject({ code: 0x06, k: 0x7fff0000 });
    }
    expect(seccompProgram("x64").length).toBe(seccompInstructions("x64").length * 8);
  });

  it("refuses to build for an architecture it has no table for", () => {
    expect(() => seccompInstructions("ia32")).toThrow(/only built for x64 and arm64/);
  });
});
