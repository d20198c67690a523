import { describe, expect, it } from "vitest";
import { ErrorCodes, VolumeSpecError } from "../../../src/errors/index.js";
import { isSameOrInside, mountOrder, validateGuestPaths, workdirIssue } from "../../../src/volumes/index.js";

function problemsOf(guests: string[]): { message: string; code: string }[] | undefined {
  try {
    validateGuestPaths(guests.map((guest) => ({ guest })));
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(VolumeSpecError);
    expect((e as VolumeSpecError).code).toBe(ErrorCodes.INVALID_VOLUME);
    return (e as VolumeSpecError).details.problems as { message: string; code: string }[];
  }
}

describe("validateGuestPaths", () => {
  it.each([
    [["/app", "/apple"]],
    [["/workspace"]],
    [["/a/b", "/a/c"]],
    [["/tmp/scratch"]],
    [["/home/user/work", "/data"]],
    [["/var/data"]],
    // Nesting is allowed (Docker does; parents are mounted first): issue 10 item 4.
    [["/app", "/app/data"]],
    [["/app/data", "/app"]],
    [[]],
  ])("accepts %j", (guests) => {
    expect(problemsOf(guests)).toBeUndefined();
  });

  it.each([
    [["/app", "/app"], "duplicate guest path /app"],
    [["/app", "/app/"], "duplicate guest path /app"],
    [["/"], "guest root /"],
    [["/tmp"], "/tmp is the sandbox's private tmpfs"],
    [["/proc"], "reserved system folder /proc"],
    [["/proc/self"], "reserved system folder /proc"],
    [["/sys/fs"], "reserved system folder /sys"],
    [["/dev/shm"], "reserved system folder /dev"],
    [["/etc"], "reserved system folder /etc"],
    [["/etc/ssl"], "reserved system folder /etc"],
    [["/usr/local/lib"], "reserved system folder /usr"],
    [["/bin"], "reserved system folder /bin"],
    [["/sbin"], "reserved system folder /sbin"],
    [["/lib"], "reserved system folder /lib"],
    [["/lib64"], "reserved system folder /lib64"],
    [["/boot"], "reserved system folder /boot"],
    [["/.sandbox"], "reserved system folder /.sandbox"],
    [["/.sandbox/scripts"], "reserved system folder /.sandbox"],
  ])("refuses %j", (guests, text) => {
    const problems = problemsOf(guests);
    expect(problems?.[0]?.message).toContain(text);
  });

  it("reports every problem at once with index and fix", () => {
    let err: VolumeSpecError | undefined;
    try {
      validateGuestPaths([{ guest: "/etc" }, { guest: "/w" }, { guest: "/w" }, { guest: "/proc" }]);
    } catch (e) {
      err = e as VolumeSpecError;
    }
    expect(err?.details.problems).toHaveLength(3);
    expect(err?.message).toContain("3 problems with volumes");
    expect(err?.message).toContain("volumes[0]");
    expect(err?.message).toContain("volumes[2]");
    expect(err?.message).toContain("volumes[3]");
    expect(err?.message).toContain("Fix: give each volume its own guest path");
  });

  it("compares whole components", () => {
    expect(isSameOrInside("/apple", "/app")).toBe(false);
    expect(isSameOrInside("/app/x", "/app")).toBe(true);
    expect(isSameOrInside("/app", "/app")).toBe(true);
    expect(isSameOrInside("/x", "/")).toBe(true);
  });
});

describe("mountOrder", () => {
  it("puts parents before children, whatever the given order", () => {
    const order = mountOrder([{ guest: "/w/skills/x" }, { guest: "/w" }, { guest: "/data" }, { guest: "/w/skills" }]);
    expect(order.map((v) => v.guest)).toEqual(["/w", "/data", "/w/skills", "/w/skills/x"]);
  });
});

describe("workdirIssue (the same guest rules for the working directory)", () => {
  it.each(["/workspace", "/home/user/work", "/tmp/x", "/"])("accepts %s", (w) => {
    expect(workdirIssue(w)).toBeUndefined();
  });
  it.each([
    ["workspace", "absolute"],
    ["/../oldroot/x", ".."],
    ["/w/../../x", ".."],
    ["/etc/x", "reserved system folder /etc"],
    ["/proc", "reserved system folder /proc"],
    ["/.sandbox/s", "reserved system folder /.sandbox"],
    ["/w\0x", "control characters"],
  ])("refuses %j", (w, text) => {
    expect(workdirIssue(w)).toContain(text);
  });
});
