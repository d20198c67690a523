import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, mkdir, readFile, readdir, stat, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCodes } from "../../../src/errors/index.js";
import { Workspace, type WalkStrategy } from "../../../src/workspace/index.js";
import { caught } from "../../helpers/caught.js";
import { type TempDir, tempDir } from "../../helpers/temp-dir.js";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

describe.each<WalkStrategy>(["procfd", "path"])("Workspace (%s strategy)", (strategy) => {
  let tmp: string;
  let tmpDir: TempDir;
  let root: string;
  let outside: string;
  let ws: Workspace;
  let server: Server | undefined;

  beforeEach(async () => {
    tmpDir = await tempDir("msbv-ws-");
    tmp = tmpDir.path;
    root = path.join(tmp, "root");
    outside = path.join(tmp, "outside");
    await mkdir(path.join(root, "src", "deep"), { recursive: true });
    await mkdir(outside);
    await writeFile(path.join(outside, "secret.txt"), "SECRET");
    await writeFile(path.join(root, "hello.txt"), "hello");
    await writeFile(path.join(root, "src", "deep", "a.py"), "print(1)\n");
    ws = await Workspace.open(root, { strategy });
  });

  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
    await tmpDir.remove();
  });

  it("reads, writes and lists real files", async () => {
    expect(await ws.readText("hello.txt")).toBe("hello");
    expect((await ws.read("src/deep/a.py")).toString()).toBe("print(1)\n");
    await ws.write("new.txt", "n1");
    await ws.write("new.txt", Buffer.from("n2"));
    expect(await readFile(path.join(root, "new.txt"), "utf8")).toBe("n2");
    await ws.write("made/by/write.txt", "deep", { createParents: true });
    expect(await readFile(path.join(root, "made/by/write.txt"), "utf8")).toBe("deep");
    const names = (await ws.list()).map((e) => `${e.type}:${e.path}`);
    expect(names).toEqual(["file:hello.txt", "directory:made", "file:new.txt", "directory:src"]);
    const deep = await ws.list(".", { recursive: true });
    expect(deep.map((e) => e.path)).toEqual(["hello.txt", "made", "made/by", "made/by/write.txt", "new.txt", "src", "src/deep", "src/deep/a.py"]);
    const a = deep.find((e) => e.path === "src/deep/a.py");
    expect(a).toMatchObject({ name: "a.py", type: "file", size: 9 });
    expect(a?.mtimeMs).toBeGreaterThan(0);
    expect((await ws.list("src")).map((e) => e.path)).toEqual(["src/deep"]);
    expect(await readdir(root)).not.toContainEqual(expect.stringMatching(/\.tmp$/));
  });

  it("refuses a missing parent without createParents, and a missing file", async () => {
    expect((await caught(ws.write("nope/x.txt", "x"))).code).toBe(ErrorCodes.WORKSPACE_NOT_FOUND);
    expect((await caught(ws.read("missing.txt"))).code).toBe(ErrorCodes.WORKSPACE_NOT_FOUND);
    expect((await caught(ws.read("src"))).code).toBe(ErrorCodes.WORKSPACE_NOT_FOUND);
  });

  it("keeps the replaced file's mode and honours an explicit mode", async () => {
    await chmod(path.join(root, "hello.txt"), 0o750);
    await ws.write("hello.txt", "again");
    expect((await stat(path.join(root, "hello.txt"))).mode & 0o7777).toBe(0o750);
    await ws.write("run.sh", "#!/bin/sh\n", { mode: 0o755 });
    expect((await stat(path.join(root, "run.sh"))).mode & 0o7777).toBe(0o755);
  });

  it("refuses a symlink to /etc/passwd and never returns its content", async () => {
    await symlink("/etc/passwd", path.join(root, "passwd"));
    const e = await caught(ws.read("passwd"));
    expect(e.code).toBe(ErrorCodes.WORKSPACE_ESCAPE);
    expect(e.message).toContain("symlink");
    expect(e.message).not.toContain("root:");
  });

  it("refuses to follow even a symlink that points inside, and lists it as a symlink", async () => {
    await symlink("hello.txt", path.join(root, "inner-link"));
    expect((await caught(ws.read("inner-link"))).code).toBe(ErrorCodes.WORKSPACE_ESCAPE);
    expect(await ws.stat("inner-link")).toMatchObject({ type: "symlink", linkTarget: "hello.txt" });
  });

  it("refuses an intermediate folder symlinked to /", async () => {
    await symlink("/", path.join(root, "rootlink"));
    const attempts = [
      () => ws.read("rootlink/etc/passwd"),
      () => ws.list("rootlink"),
      () => ws.write("rootlink/tmp/msbv-pwned", "x"),
      () => ws.mkdir("rootlink/x"),
      () => ws.remove("rootlink/tmp", { recursive: true }),
    ];
    for (const attempt of attempts) {
      expect((await caught(attempt())).code).toBe(ErrorCodes.WORKSPACE_ESCAPE);
    }
    await expect(stat("/tmp/msbv-pwned")).rejects.toThrow(/ENOENT/);
    const listed = await ws.list(".", { recursive: true });
    expect(listed.find((e) => e.path === "rootlink")?.type).toBe("symlink");
    expect(listed.some((e) => e.path.startsWith("rootlink/"))).toBe(false);
  });

  it("refuses a FIFO without blocking, and lists it as other", async () => {
    execFileSync("mkfifo", [path.join(root, "pipe")]);
    const e = await caught(ws.read("pipe"));
    expect(e.code).toBe(ErrorCodes.WORKSPACE_ESCAPE);
    expect(e.message).toContain("a FIFO");
    expect((await caught(ws.write("pipe", "x"))).code).toBe(ErrorCodes.WORKSPACE_ESCAPE);
    expect((await ws.stat("pipe")).type).toBe("other");
  });

  it("refuses a unix socket", async () => {
    const sock = path.join(root, "s.sock");
    server = createServer();
    await new Promise<void>((r) => server?.listen(sock, () => r()));
    const e = await caught(ws.read("s.sock"));
    expect(e.code).toBe(ErrorCodes.WORKSPACE_ESCAPE);
    expect(e.message).toContain("a socket");
  });

  it.each(["../outside/secret.txt", "src/../../outside/secret.txt", `${"/"}etc/passwd`])("refuses the escaping path %s", async (p) => {
    expect((await caught(ws.read(p))).code).toBe(ErrorCodes.WORKSPACE_ESCAPE);
    expect((await caught(ws.write(p, "x"))).code).toBe(ErrorCodes.WORKSPACE_ESCAPE);
  });

  it("never writes through a symlink planted at the target", async () => {
    const target = path.join(outside, "secret.txt");
    await symlink(target, path.join(root, "planted"));
    const e = await caught(ws.write("planted", "OVERWRITTEN"));
    expect(e.code).toBe(ErrorCodes.WORKSPACE_ESCAPE);
    expect(await readFile(target, "utf8")).toBe("SECRET");
    await symlink(outside, path.join(root, "dirlink"));
    expect((await caught(ws.write("dirlink/secret.txt", "OVERWRITTEN"))).code).toBe(ErrorCodes.WORKSPACE_ESCAPE);
    expect(await readFile(target, "utf8")).toBe("SECRET");
  });

  it("removes files, links (not their targets) and folders recursively without leaving the root", async () => {
    await symlink(outside, path.join(root, "src", "deep", "out-link"));
    await symlink(path.join(outside, "secret.txt"), path.join(root, "secret-link"));
    await ws.remove("secret-link");
    await ws.remove("hello.txt");
    expect((await caught(ws.remove("src"))).code).toBe(ErrorCodes.WORKSPACE_IO);
    await ws.remove("src", { recursive: true });
    expect(await readdir(root)).toEqual([]);
    expect(await readFile(path.join(outside, "secret.txt"), "utf8")).toBe("SECRET");
    expect((await caught(ws.remove("."))).code).toBe(ErrorCodes.WORKSPACE_ESCAPE);
  });

  it("snapshots every regular file with its SHA-256, skipping links and special files", async () => {
    await symlink(path.join(outside, "secret.txt"), path.join(root, "secret-link"));
    execFileSync("mkfifo", [path.join(root, "pipe")]);
    const snap = await ws.snapshot();
    expect([...snap.keys()]).toEqual(["hello.txt", "src/deep/a.py"]);
    expect(snap.get("hello.txt")).toMatchObject({ size: 5, sha256: sha("hello") });
    expect(snap.get("src/deep/a.py")?.sha256).toBe(sha("print(1)\n"));
  });

  it("readEach streams a file through a few reused buffers, at most `limit` bytes; digest hashes it in pieces; both refuse links", async () => {
    const data = Buffer.alloc(6.5 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 251;
    await writeFile(path.join(root, "big.bin"), data);
    const pieces: Buffer[] = [];
    const backing = new Set<ArrayBufferLike>();
    let changedWhileHeld = 0;
    const total = await ws.readEach("big.bin", data.length, async (piece) => {
      backing.add(piece.buffer);
      const copy = Buffer.from(piece); // the buffer is read into again once this settles
      pieces.push(copy);
      // Held a while (a slow socket): the next pieces are read meanwhile, never into this buffer.
      await new Promise((resolve) => setTimeout(resolve, 40));
      if (!piece.equals(copy)) changedWhileHeld++;
    });
    expect(total).toBe(data.length);
    expect(Buffer.concat(pieces).equals(data)).toBe(true);
    expect(changedWhileHeld).toBe(0);
    expect(pieces.length).toBe(7);
    expect(backing.size).toBeLessThanOrEqual(4);
    // A limit stops the read there; a shorter file reports what it had.
    expect(await ws.readEach("big.bin", 1000, async () => undefined)).toBe(1000);
    expect(await ws.readEach("hello.txt", 1000, async () => undefined)).toBe(5);
    // The consumer's own error comes back as it is, not as a workspace error.
    const mine = new Error("socket gone");
    expect(await ws.readEach("big.bin", data.length, async () => Promise.reject(mine)).catch((e: unknown) => e)).toBe(mine);
    expect(await ws.digest("big.bin")).toMatchObject({ size: data.length, sha256: createHash("sha256").update(data).digest("hex") });
    await symlink(path.join(outside, "secret.txt"), path.join(root, "link"));
    let leaked = false;
    const consume = async () => {
      leaked = true;
    };
    expect((await caught(ws.readEach("link", 100, consume))).code).toBe(ErrorCodes.WORKSPACE_ESCAPE);
    expect(leaked).toBe(false);
    expect((await caught(ws.digest("link"))).code).toBe(ErrorCodes.WORKSPACE_ESCAPE);
  });

  it("open() refuses a missing root or a file as root", async () => {
    expect((await caught(Workspace.open(path.join(tmp, "nope"), { strategy }))).code).toBe(ErrorCodes.WORKSPACE_NOT_FOUND);
    expect((await caught(Workspace.open(path.join(root, "hello.txt"), { strategy }))).code).toBe(ErrorCodes.WORKSPACE_NOT_FOUND);
  });
});
