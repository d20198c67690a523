import { mkdir, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { call, startHarness, type Harness } from "../../../helpers/server-harness.js";

// Sandboxfile semantics (docs/protocol.md#sandboxfile) and our deviations: strings validated before writing (no
// poisoning), atomic writes, server-state mount sources refused, missing host path = 500 now.

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ dev: true });
});
afterEach(async () => h.close());

const sandboxfilePath = () => join(h.server.projectDir, "Sandboxfile");
const readYaml = async () => parse(await readFile(sandboxfilePath(), "utf8")) as { sandboxes: Record<string, Record<string, unknown>> };
const start = (sandbox: string, config?: unknown) =>
  h.rpc(call("sandbox.start", { sandbox, namespace: "default", ...(config !== undefined && { config }) }));

describe("Sandboxfile writes", () => {
  it("creates the file with the legacy header and writes keys in the legacy order", async () => {
    await mkdir(join(h.server.projectDir, "data"));
    const config = {
      exec: "ignored",
      scripts: { hello: "echo hi" },
      shell: "/bin/sh",
      workdir: "/work",
      depends_on: ["db"],
      envs: ["A=1"],
      ports: ["8080:80"],
      volumes: ["data:/data"],
      cpus: 2,
      memory: 256,
      image: "microsandbox/python",
      unknownField: true,
    };
    expect((await start("sb1", config)).status).toBe(200);
    const text = await readFile(sandboxfilePath(), "utf8");
    expect(text.startsWith("# Sandbox configurations\n")).toBe(true);
    const entry = (await readYaml()).sandboxes.sb1!;
    expect(Object.keys(entry)).toEqual(["image", "memory", "cpus", "volumes", "ports", "envs", "depends_on", "workdir", "shell", "scripts", "exec"]);
    expect(entry.volumes).toEqual(["data:/data"]); // stored as sent, resolved only at start
    expect(entry.ports).toEqual(["8080:80"]); // no portal port injection
  });

  it("replaces an entry wholesale when config.image is present and reuses it otherwise", async () => {
    await mkdir(join(h.server.projectDir, "data"));
    await start("sb1", { image: "microsandbox/python", volumes: ["data:/data"], envs: ["A=1"] });
    await h.rpc(call("sandbox.stop", { sandbox: "sb1" }));
    await start("sb1", { image: "microsandbox/node" });
    expect((await readYaml()).sandboxes.sb1).toStrictEqual({ image: "microsandbox/node" });
    await h.rpc(call("sandbox.stop", { sandbox: "sb1" }));
    const before = await readFile(sandboxfilePath(), "utf8");
    expect((await start("sb1", { volumes: ["data:/data"], memory: 64 })).status).toBe(200);
    expect(await readFile(sandboxfilePath(), "utf8")).toBe(before);
    expect(h.runtime.started.at(-1)).toStrictEqual({ name: "sb1", image: "microsandbox/node", volumes: [], envs: [] });
  });

  it("keeps other top-level keys and comments, and normalises a non-mapping sandboxes key", async () => {
    await writeFile(sandboxfilePath(), "# mine\nmeta:\n  owner: me\nsandboxes: 3\n");
    await start("sb1", { image: "microsandbox/python" });
    const text = await readFile(sandboxfilePath(), "utf8");
    expect(text).toContain("# mine");
    expect(parse(text)).toStrictEqual({ meta: { owner: "me" }, sandboxes: { sb1: { image: "microsandbox/python" } } });
  });

  it("reads an empty file (all a power cut can leave of a write without fsync) as no entries, and writes it whole again", async () => {
    await writeFile(sandboxfilePath(), "");
    expect((await start("sb1")).status).toBe(400); // a start without config finds nothing stored
    expect((await start("sb1", { image: "microsandbox/python" })).status).toBe(200);
    expect((await readYaml()).sandboxes).toStrictEqual({ sb1: { image: "microsandbox/python" } });
  });

  it("loses no entry under 20 concurrent starts and leaves no temp file", async () => {
    const names = Array.from({ length: 20 }, (_, i) => `sb${i}`);
    const replies = await Promise.all(names.map((n) => start(n, { image: "microsandbox/python", envs: [`N=${n}`] })));
    expect(replies.map((r) => r.status)).toEqual(names.map(() => 200));
    expect(Object.keys((await readYaml()).sandboxes).sort()).toEqual([...names].sort());
    expect((await readdir(h.server.projectDir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});

describe("no poisoning: bad strings are refused before the file is written", () => {
  const bad: [string, Record<string, unknown>, string][] = [
    ["empty volume", { volumes: [""] }, "Invalid volume '' in config.volumes[0]"],
    ["empty host side", { volumes: [":/x"] }, "Invalid volume ':/x'"],
    ["empty guest side", { volumes: ["/tmp:"] }, "Invalid volume '/tmp:'"],
    // The client's rules (src/volumes), applied by the server to raw calls: same reasons, as 400/2001.
    ["relative guest", { volumes: ["data:data"] }, "guest mount path must be absolute"],
    ["options segment", { volumes: ["data:/data:ro"] }, "no options segment"],
    ["guest with ..", { volumes: ["data:/a/../etc"] }, "must not contain '..'"],
    ["duplicate guests", { volumes: ["a:/app", "b:/app/"] }, "duplicate guest path /app"],
    ["reserved guest /sys", { volumes: ["data:/sys"] }, "reserved system folder /sys"],
    ["reserved guest /tmp", { volumes: ["data:/tmp"] }, "/tmp is the sandbox's private tmpfs"],
    ["readonly_volumes naming no volume", { volumes: ["data:/data"], readonly_volumes: ["/other"] }, "no volume is mounted at that guest path"],
    ["workdir escaping the root", { workdir: "/../oldroot/x" }, 'must not contain ".."'],
    ["workdir in a system tree", { workdir: "/etc/x" }, "reserved system folder /etc"],
    ["port out of range", { ports: ["70000"] }, "Invalid port mapping '70000' in config.ports[0]"],
    ["port not numeric", { ports: ["a:b"] }, "Invalid port mapping 'a:b'"],
    ["env without =", { envs: ["NOVALUE"] }, "Invalid environment variable 'NOVALUE' in config.envs[0]"],
    ["env with empty name", { envs: ["=x"] }, "Invalid environment variable '=x'"],
    ["host rootfs image", { image: "/srv/rootfs" }, "Invalid image '/srv/rootfs'"],
    ["malformed image", { image: "Bad Image!" }, "Invalid image 'Bad Image!'"],
  ];

  it("answers 400/2001 naming the string, leaves the file byte-identical, and other sandboxes still start", async () => {
    await start("good", { image: "microsandbox/python", envs: ["A=1"] });
    await h.rpc(call("sandbox.stop", { sandbox: "good" }));
    const before = await readFile(sandboxfilePath(), "utf8");
    for (const [label, override, message] of bad) {
      const reply = await start("victim", { image: "microsandbox/python", ...override });
      expect({ label, status: reply.status }).toEqual({ label, status: 400 });
      const body = reply.json as { error: string; code: number };
      expect(body.code, label).toBe(2001);
      expect(body.error, label).toContain(message);
      expect(await readFile(sandboxfilePath(), "utf8"), label).toBe(before);
    }
    expect((await start("good")).status).toBe(200);
  });

  it("a hand-poisoned entry breaks only its own start (generic 500, cause logged)", async () => {
    await writeFile(
      sandboxfilePath(),
      "sandboxes:\n  bad:\n    image: microsandbox/python\n    envs: [NOVALUE]\n  good:\n    image: microsandbox/python\n",
    );
    const reply = await start("bad");
    expect(reply.status).toBe(500);
    expect(reply.json).toStrictEqual({ error: "Internal server error", code: 5002, data: { kind: "internal" } });
    expect(h.logs.join("\n")).toContain("Sandboxfile entry 'bad' is invalid");
    expect((await start("good")).status).toBe(200);
  });
});

describe("volume host paths", () => {
  it("resolves relative host paths against the canonical project dir and passes canonical absolute paths", async () => {
    const outside = join(h.root, "outside");
    await mkdir(outside);
    await mkdir(join(h.server.projectDir, "data"));
    await symlink(outside, join(h.server.projectDir, "link"));
    const reply = await start("sb1", { image: "microsandbox/python", volumes: ["data:/data", "./data/:/d2"] });
    expect(reply.status).toBe(200);
    expect(h.runtime.started.at(-1)?.volumes).toStrictEqual([
      { host: join(h.server.projectDir, "data"), guest: "/data", readonly: false },
      { host: join(h.server.projectDir, "data"), guest: "/d2", readonly: false },
    ]);
    // A symlink inside the allowed root is never followed (a sandbox could have planted it).
    const linked = await start("sb2", { image: "microsandbox/python", volumes: ["link:/o"] });
    expect(linked.status).toBe(400);
    expect((linked.json as { error: string }).error).toContain("is a symlink");
  });

  it("uses the same path on both sides when there is no colon", async () => {
    const dir = join(h.server.projectDir, "same");
    await mkdir(dir);
    expect((await start("sb1", { image: "microsandbox/python", volumes: [dir] })).status).toBe(200);
    expect(h.runtime.started.at(-1)?.volumes).toStrictEqual([{ host: dir, guest: dir, readonly: false }]);
  });

  it("refuses a missing host folder or a file with 400 before writing; a stored entry whose folder vanished is a 500", async () => {
    const before = await readFile(sandboxfilePath(), "utf8").catch(() => "");
    const missing = await start("sb1", { image: "microsandbox/python", volumes: ["nope:/data"] });
    expect(missing.status).toBe(400);
    expect((missing.json as { error: string }).error).toContain(`host folder "${join(h.server.projectDir, "nope")}" does not exist`);
    await writeFile(join(h.server.projectDir, "file.txt"), "x");
    const file = await start("sb2", { image: "microsandbox/python", volumes: ["file.txt:/f"] });
    expect(file.status).toBe(400);
    expect((file.json as { error: string }).error).toContain("is a file, not a folder");
    expect(await readFile(sandboxfilePath(), "utf8").catch(() => "")).toBe(before);
    expect(h.runtime.started).toEqual([]);
    // Legacy shape for entries read back: the folder is gone by the next start → generic 500, cause logged.
    await mkdir(join(h.server.projectDir, "gone"));
    expect((await start("sb3", { image: "microsandbox/python", volumes: ["gone:/g"] })).status).toBe(200);
    await h.rpc(call("sandbox.stop", { sandbox: "sb3" }));
    await rm(join(h.server.projectDir, "gone"), { recursive: true });
    const again = await start("sb3");
    expect(again.status).toBe(500);
    expect(again.json).toStrictEqual({ error: "Internal server error", code: 5002, data: { kind: "internal" } });
    expect(h.logs.join("\n")).toMatch(/gone.*does not exist/);
  });

  it("refuses server state as a mount source (inside, equal, ancestor, via symlink) without writing", async () => {
    await start("first", { image: "microsandbox/python" });
    const before = await readFile(sandboxfilePath(), "utf8");
    await mkdir(join(h.server.projectDir, ".menv", "sub"), { recursive: true });
    await symlink(join(h.server.projectDir, ".menv"), join(h.root, "sneaky"));
    const sources = [".menv", ".menv/sub", ".", "..", h.root, "/", join(h.root, "sneaky"), join(h.root, "home"), "Sandboxfile"];
    for (const source of sources) {
      const reply = await start("victim", { image: "microsandbox/python", volumes: [`${source}:/x`] });
      expect({ source, status: reply.status }).toEqual({ source, status: 400 });
      // The state itself, a folder containing it, or (for paths outside the project) the root rule.
      expect((reply.json as { error: string }).error, source).toMatch(/refuses to share|outside the allowed roots|the filesystem root/);
      expect(await readFile(sandboxfilePath(), "utf8"), source).toBe(before);
    }
  });
});
