import { describe, expect, it } from "vitest";
import { collectCommand, type ExecStream, type StreamEvent } from "../../../../src/backend/embedded/exec-stream.js";

/** A scripted stream: events in order, then either the end or an error (the VM went away). */
function scripted(events: StreamEvent[], end: "null" | "throw"): ExecStream & { killed: boolean } {
  const queue = [...events];
  const stream = {
    killed: false,
    recv: async () => {
      const next = queue.shift();
      if (next) return next;
      if (end === "throw") throw new Error("relay closed");
      return null;
    },
    write: async () => {},
    signal: async () => {},
    kill: async () => {
      stream.killed = true;
    },
  };
  return stream;
}

const bytes = (text: string) => new TextEncoder().encode(text);

describe("collectCommand", () => {
  it("splits chunks into ordered lines across chunk boundaries, keeps an unterminated last line", async () => {
    const result = await collectCommand(
      scripted(
        [
          { kind: "started", pid: 7 },
          { kind: "stdout", data: bytes("he") },
          { kind: "stdout", data: bytes("llo\nwor") },
          { kind: "stderr", data: bytes("warn\r\n") },
          { kind: "stdout", data: bytes("ld") },
          { kind: "exited", code: 0 },
        ],
        "null",
      ),
      undefined,
    );
    expect(result).toEqual({
      exitCode: 0,
      timedOut: false,
      broken: false,
      output: [
        { stream: "stdout", text: "hello" },
        { stream: "stderr", text: "warn" },
        { stream: "stdout", text: "world" },
      ],
    });
  });

  it("a stream that breaks before the exit is reported as broken, with the output so far", async () => {
    const result = await collectCommand(scripted([{ kind: "stdout", data: bytes("partial\n") }], "throw"), undefined);
    expect(result.broken).toBe(true);
    expect(result.output).toEqual([{ stream: "stdout", text: "partial" }]);
  });

  it("a stream that ends without an exit event is broken too (never a made-up exit code 0)", async () => {
    const result = await collectCommand(scripted([], "null"), undefined);
    expect(result).toMatchObject({ broken: true, exitCode: -1 });
  });
});
