import { describe, expect, it } from "vitest";
import { parkedReplFits } from "../../../../../src/server/runtime/pool/parked-repl.js";

const base: Array<[string, string]> = [
  ["PATH", "/usr/bin:/bin"],
  ["HOME", "/home/python-user"],
  ["LANG", "C.UTF-8"],
  ["PYTHONIOENCODING", "utf-8"],
];

/** The default workdir and no volume: nothing that makes a folder `site` looks at. */
const plain = { workdir: "/home/python-user/work", volumes: [] };

describe("parkedReplFits", () => {
  it("keeps the parked REPL when only variables read at run time differ", () => {
    expect(parkedReplFits(base, base, plain)).toBe(true);
    expect(parkedReplFits(base, [...base, ["FOO", "bar"], ["TMPDIR", "/w/tmp"]], plain)).toBe(true);
    expect(parkedReplFits(base, [["PATH", "/custom:/usr/bin"], ...base.slice(1)], plain)).toBe(true);
    // The same value as the base is no difference.
    expect(parkedReplFits(base, [...base.slice(0, 2), ["LANG", "C.UTF-8"], ["PYTHONIOENCODING", "utf-8"]], plain)).toBe(true);
    // PWD and OLDPWD are read by shells, not by the interpreter's start.
    expect(parkedReplFits(base, [...base, ["PWD", "/x"], ["OLDPWD", "/y"]], plain)).toBe(true);
  });

  it.each([
    ["PYTHONPATH", "/opt"],
    ["PYTHONHASHSEED", "0"],
    ["PYTHONIOENCODING", "latin-1"],
    ["PYTHONUSERBASE", "/w/base"],
    ["LANG", "C"],
    ["LANGUAGE", "fr"],
    ["LC_ALL", "C"],
    ["TZ", "UTC"],
    ["HOME", "/w"],
    ["LD_PRELOAD", "/w/x.so"],
    ["MALLOC_ARENA_MAX", "2"],
    ["GLIBC_TUNABLES", "glibc.malloc.check=3"],
  ])("starts a fresh one when %s is set to something else", (key, value) => {
    const final = new Map(base);
    final.set(key, value);
    expect(parkedReplFits(base, [...final], plain)).toBe(false);
  });

  it("starts a fresh one when a start-up variable of the base is removed", () => {
    expect(
      parkedReplFits(
        base,
        base.filter(([key]) => key !== "LANG"),
        plain,
      ),
    ).toBe(false);
  });

  // `site` puts $HOME/.local/lib/pythonX.Y/site-packages on sys.path (and runs its .pth files) only
  // when it exists at start-up, which volumes and the workdir decide for a cold REPL only.
  it.each([
    ["a volume at the user base", { workdir: "/workspace", volumes: ["/home/python-user/.local"] }],
    ["a volume at the user site itself", { workdir: "/workspace", volumes: ["/home/python-user/.local/lib/python3.11/site-packages"] }],
    [
      "a volume inside the user site (its mount point makes the folders)",
      { workdir: "/workspace", volumes: ["/home/python-user/.local/lib/python3.11/site-packages/pkg"] },
    ],
    ["a volume at HOME", { workdir: "/workspace", volumes: ["/workspace", "/home/python-user"] }],
    ["a volume at /home", { workdir: "/workspace", volumes: ["/home"] }],
    ["a workdir inside the user site", { workdir: "/home/python-user/.local/lib/python3.11/site-packages", volumes: [] }],
  ])("starts a fresh one for %s", (_what, folders) => {
    expect(parkedReplFits(base, base, folders)).toBe(false);
  });

  it.each([
    [
      "volumes beside the user base",
      { workdir: "/workspace", volumes: ["/workspace", "/home/python-user/work", "/home/python-user/.localdata", "/data"] },
    ],
    ["a workdir at HOME (made before any start, nothing below it)", { workdir: "/home/python-user", volumes: [] }],
    ["a workdir at /home", { workdir: "/home", volumes: [] }],
  ])("keeps it for %s", (_what, folders) => {
    expect(parkedReplFits(base, base, folders)).toBe(true);
  });

  it("looks at the sandbox's HOME, and keeps nothing without an absolute one", () => {
    expect(parkedReplFits(base, base, { workdir: "/w", volumes: ["/home/python-user/.local"] })).toBe(false);
    expect(parkedReplFits(base, base, { workdir: "/w", volumes: ["/root/.local"] })).toBe(true);
    const relative: Array<[string, string]> = base.map(([k, v]) => [k, k === "HOME" ? "home" : v]);
    expect(parkedReplFits(relative, relative, plain)).toBe(false);
  });
});
