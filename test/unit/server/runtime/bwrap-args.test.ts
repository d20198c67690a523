import { describe, expect, it } from "vitest";
import { buildBwrapArgs, type BwrapPlan } from "../../../../src/server/runtime/bwrap-args.js";

const plan: BwrapPlan = {
  name: "sb1",
  layout: { rootSymlinks: { "/bin": "usr/bin", "/lib": "usr/lib" }, rootDirs: ["/lib64"], etcEntries: ["/etc/ld.so.cache", "/etc/ssl/certs"] },
  etcFiles: [{ fd: 4, guest: "/etc/passwd" }],
  seccompFd: 3,
  home: { fd: 5, guest: "/home", readonly: false },
  dotSandbox: { fd: 6, guest: "/.sandbox", readonly: false },
  extraRoDirs: ["/opt/node-v22"],
  volumes: [
    { fd: 7, guest: "/workspace/sub", readonly: false },
    { fd: 8, guest: "/workspace", readonly: false },
    { fd: 9, guest: "/ref", readonly: true },
  ],
  env: [
    ["PATH", "/usr/bin"],
    ["A", "b c"],
  ],
  workdir: "/home/python-user/work",
  tmpfsBytes: 256 * 1024 * 1024,
  command: ["/usr/bin/node", "-e", "script", "label", "/home/python-user/work"],
};

/** Pairs/triples of an option with its operands, for order-insensitive checks. */
function has(args: string[], ...seq: string[]): boolean {
  return args.some((_, i) => seq.every((s, j) => args[i + j] === s));
}

describe("buildBwrapArgs", () => {
  const args = buildBwrapArgs(plan);

  it("unshares everything, drops capabilities and dies with its parent", () => {
    for (const flag of ["--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session"]) expect(args).toContain(flag);
    expect(has(args, "--uid", "0")).toBe(true);
    expect(has(args, "--gid", "0")).toBe(true);
    expect(has(args, "--seccomp", "3")).toBe(true);
    expect(has(args, "--cap-drop", "ALL")).toBe(true);
    expect(args).not.toContain("--share-net");
    expect(has(args, "--hostname", "sb1")).toBe(true);
  });

  it("sizes every private tmpfs (RAM) and makes /dev read-only, with /dev/shm a sized tmpfs of its own", () => {
    for (const dir of ["/tmp", "/var/tmp", "/dev/shm"]) expect(has(args, "--size", String(256 * 1024 * 1024), "--tmpfs", dir), dir).toBe(true);
    expect(args.indexOf("/dev/shm")).toBeGreaterThan(args.indexOf("/dev"));
    expect(has(args, "--remount-ro", "/dev")).toBe(true);
  });

  it("builds a tmpfs root with read-only system dirs and a minimal /etc", () => {
    expect(has(args, "--tmpfs", "/")).toBe(true);
    expect(has(args, "--ro-bind", "/usr", "/usr")).toBe(true);
    expect(has(args, "--symlink", "usr/bin", "/bin")).toBe(true);
    expect(has(args, "--ro-bind", "/lib64", "/lib64")).toBe(true);
    expect(has(args, "--ro-bind", "/etc/ssl/certs", "/etc/ssl/certs")).toBe(true);
    expect(has(args, "--ro-bind-data", "4", "/etc/passwd")).toBe(true);
    expect(has(args, "--ro-bind", "/opt/node-v22", "/opt/node-v22")).toBe(true);
    expect(has(args, "--ro-bind", "/etc", "/etc")).toBe(false);
    expect(args.some((a) => a === "/root" && args[args.indexOf(a) - 1] !== "--dir")).toBe(false);
    expect(args.join(" ")).not.toMatch(/--(ro-)?bind \/home /);
  });

  it("binds the writable area and volumes by descriptor, parents first, then makes / read-only", () => {
    expect(has(args, "--bind-fd", "5", "/home")).toBe(true);
    expect(has(args, "--bind-fd", "6", "/.sandbox")).toBe(true);
    expect(has(args, "--ro-bind-fd", "9", "/ref")).toBe(true);
    expect(args.join(" ")).not.toMatch(/--bind \//);
    const parent = args.indexOf("/workspace");
    const child = args.indexOf("/workspace/sub");
    expect(args[parent - 2]).toBe("--bind-fd");
    expect(parent).toBeLessThan(child);
    expect(args.indexOf("--remount-ro")).toBeGreaterThan(child);
    expect(has(args, "--dir", "/home/python-user/work")).toBe(false);
  });

  it("binds a readonly volume with --ro-bind-fd (and only that one), still parents first", () => {
    const ro = buildBwrapArgs({
      ...plan,
      volumes: [
        { fd: 11, guest: "/w/tools", readonly: true },
        { fd: 10, guest: "/w", readonly: false },
      ],
    });
    expect(has(ro, "--ro-bind-fd", "11", "/w/tools")).toBe(true);
    expect(has(ro, "--bind-fd", "11", "/w/tools")).toBe(false);
    expect(has(ro, "--bind-fd", "10", "/w")).toBe(true);
    expect(ro.indexOf("/w")).toBeLessThan(ro.indexOf("/w/tools"));
  });

  it("creates a workdir that would sit on the read-only root before remounting it", () => {
    const other = buildBwrapArgs({ ...plan, workdir: "/app/src" });
    expect(other.indexOf("--dir", other.indexOf("/workspace/sub"))).toBeLessThan(other.indexOf("--remount-ro"));
    expect(has(other, "--dir", "/app/src")).toBe(true);
    expect(has(buildBwrapArgs({ ...plan, workdir: "/workspace/x" }), "--dir", "/workspace/x")).toBe(false);
  });

  it("clears the environment, sets each variable and ends with the command", () => {
    expect(args).toContain("--clearenv");
    expect(has(args, "--setenv", "A", "b c")).toBe(true);
    expect(args.slice(-6)).toEqual(["--", ...plan.command]);
  });
});
