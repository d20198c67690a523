import { describe, expect, it } from "vitest";
import { checkVolumeMounts, parseMountinfo } from "../../../../../src/server/runtime/containment/verify-mounts.js";

// Shaped like /proc/<supervisor>/mountinfo of a sandbox with ./ws at /w and ./tools at /w/skills.
const base = [
  "300 250 0:70 / / rw,nosuid,nodev - tmpfs tmpfs rw",
  "301 300 8:1 /usr /usr ro,nosuid,nodev - ext4 /dev/sda1 rw",
  "302 300 0:71 / /etc rw,nosuid,nodev - tmpfs tmpfs rw",
  "303 302 8:1 /srv/state/etc/passwd /etc/passwd ro,nosuid,nodev - ext4 /dev/sda1 rw",
  "310 300 8:1 /proj/ws /w rw,relatime - ext4 /dev/sda1 rw",
];
const volumes = [
  { host: "/proj/ws", guest: "/w" },
  { host: "/proj/tools", guest: "/w/skills" },
];
const table = (...lines: string[]): ReturnType<typeof parseMountinfo> => parseMountinfo(`${[...base, ...lines].join("\n")}\n`);

describe("checkVolumeMounts", () => {
  it("accepts every volume at its guest path", () => {
    expect(() => checkVolumeMounts("b", volumes, table("311 310 8:1 /proj/tools /w/skills rw,relatime - ext4 /dev/sda1 rw"))).not.toThrow();
  });

  it("refuses a nested volume that landed on /etc through a swapped-in symlink", () => {
    // What bubblewrap leaves when /w/skills was `-> ../etc` at mount time: tools over B's /etc.
    expect(() => checkVolumeMounts("b", volumes, table("311 302 8:1 /proj/tools /etc rw,relatime - ext4 /dev/sda1 rw"))).toThrow(
      /volume "\/proj\/tools" is not mounted at \/w\/skills \(nothing is mounted there\); a symlink was swapped in at the mount point/,
    );
  });

  it("refuses a nested volume that vanished (symlink to /oldroot/..., unmounted with the host root)", () => {
    expect(() => checkVolumeMounts("b", volumes, table())).toThrow(/not mounted at \/w\/skills/);
  });

  it("refuses a volume mounted at its guest path and also elsewhere", () => {
    const error = (() => {
      try {
        checkVolumeMounts(
          "b",
          volumes,
          table("311 310 8:1 /proj/tools /w/skills rw - ext4 /dev/sda1 rw", "312 302 8:1 /proj/tools /etc/x rw - ext4 /dev/sda1 rw"),
        );
      } catch (caught) {
        return caught as { code?: string; message: string };
      }
      return undefined;
    })();
    expect(error?.code).toBe("MSBV_DEV_SERVER");
    expect(error?.message).toMatch(/also mounted at \/etc\/x.*a symlink was swapped in/);
  });

  it("allows one host folder mounted at two guest paths", () => {
    const twice = [...volumes, { host: "/proj/tools", guest: "/t" }];
    expect(() =>
      checkVolumeMounts(
        "b",
        twice,
        table("311 310 8:1 /proj/tools /w/skills rw - ext4 /dev/sda1 rw", "312 300 8:1 /proj/tools /t rw - ext4 /dev/sda1 rw"),
      ),
    ).not.toThrow();
  });

  it("decodes the kernel's octal escapes in paths", () => {
    const spaced = [{ host: "/proj/my tools", guest: "/w/my skills" }];
    expect(() =>
      checkVolumeMounts("b", spaced, parseMountinfo("311 310 8:1 /proj/my\\040tools /w/my\\040skills rw - ext4 /dev/sda1 rw")),
    ).not.toThrow();
  });
});
