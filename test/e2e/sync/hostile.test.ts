import { lstat, mkdir, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ErrorCodes, SyncError } from "../../../src/errors/index.js";
import { SyncConflictError } from "../../../src/sync/index.js";
import { syncBack, syncIn } from "../../../src/sync/index.js";
import { observeCommands, startSyncFixture, type SyncFixture } from "../../helpers/sync-fixture.js";

// Everything that comes out of the sandbox is untrusted. These tests make the sandbox (or code in it)
// plant links and forged archives, and check that nothing outside the host folder is written and no
// link is followed or created on the host.

let fx: SyncFixture;
let passwdBefore: string;
beforeAll(async () => {
  fx = await startSyncFixture();
  passwdBefore = await readFile("/etc/passwd", "utf8");
});
afterAll(async () => {
  await fx?.close();
  expect(await readFile("/etc/passwd", "utf8")).toBe(passwdBefore);
});

it("links planted in the guest folder are skipped, never followed, never recreated on the host", async () => {
  const host = await fx.hostDir("links");
  const outside = await fx.hostDir("links-outside");
  await writeFile(join(outside, "victim.txt"), "victim\n");
  await writeFile(join(host, "a.txt"), "host a\n");
  await fx.start("links");
  const session = await syncIn(fx.backend, "links", [{ host, guest: "/home/ws" }]);

  await fx.sh(
    "links",
    [
      "cd /home/ws",
      "ln -s /etc/passwd passwd-link",
      "rm a.txt && ln -s /etc/passwd a.txt", // a synced file turned into a link
      "ln -s / root-link",
      "echo from-sandbox > out.txt",
    ].join(" && "),
  );
  // On the host, a link appears where the sandbox created out.txt: writing there would go through it.
  await symlink(join(outside, "victim.txt"), join(host, "out.txt"));

  const err = await syncBack(fx.backend, session).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SyncConflictError);
  const { report } = err as SyncConflictError;
  expect(report.conflicts).toEqual([{ host, path: "out.txt", reason: "both-created", sandboxCopy: "out.txt.sandbox-conflict" }]);
  expect(report.skipped.sort()).toEqual([join(host, "a.txt"), join(host, "passwd-link"), join(host, "root-link")]);
  expect(await readFile(join(outside, "victim.txt"), "utf8")).toBe("victim\n");
  expect((await lstat(join(host, "out.txt"))).isSymbolicLink()).toBe(true);
  expect(await readFile(join(host, "out.txt.sandbox-conflict"), "utf8")).toBe("from-sandbox\n");
  expect((await lstat(join(host, "a.txt"))).isFile()).toBe(true);
  expect(await readFile(join(host, "a.txt"), "utf8")).toBe("host a\n");
  expect((await readdir(host)).sort()).toEqual(["a.txt", "out.txt", "out.txt.sandbox-conflict"]);
});

it("a host folder swapped for a link after copy-in is not written through", async () => {
  const host = await fx.hostDir("swap");
  const outside = await fx.hostDir("swap-outside");
  await mkdir(join(host, "sub"));
  await writeFile(join(host, "sub", "x.txt"), "x\n");
  await fx.start("swap");
  const session = await syncIn(fx.backend, "swap", [{ host, guest: "/home/ws" }]);
  await fx.sh("swap", "echo new > /home/ws/sub/new.txt && echo y > /home/ws/fine.txt");
  await rm(join(host, "sub"), { recursive: true });
  await symlink(outside, join(host, "sub"));

  const err = await syncBack(fx.backend, session).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SyncError);
  expect((err as SyncError).code).toBe(ErrorCodes.SYNC_FAILED);
  expect((err as SyncError).message).toContain(join(host, "sub/new.txt"));
  expect(await readdir(outside)).toEqual([]);
  expect(await readFile(join(host, "fine.txt"), "utf8")).toBe("y\n"); // the rest was applied
});

it("a forged archive with ../ names, absolute names and links is refused as a whole; nothing is written", async () => {
  const host = await fx.hostDir("forged/ws");
  await writeFile(join(host, "a.txt"), "host a\n");
  await fx.start("forged");
  const session = await syncIn(fx.backend, "forged", [{ host, guest: "/home/ws" }]);
  await fx.sh("forged", "echo sandbox > /home/ws/a.txt");

  // Code in the sandbox overwrites the archive the sync step just packed, before it is downloaded.
  const forge = `
import io, tarfile
with tarfile.open(OUT, "w", format=tarfile.PAX_FORMAT) as t:
    def add(name, data=b"pwned", kind=tarfile.REGTYPE, link=""):
        info = tarfile.TarInfo(name); info.type = kind; info.linkname = link; info.size = len(data) if kind == tarfile.REGTYPE else 0
        t.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    add("../escape.txt")
    add("/tmp/abs-escape.txt")
    add("a.txt", kind=tarfile.SYMTYPE, link="/etc/passwd")
    add("hard", kind=tarfile.LNKTYPE, link="/etc/passwd")
`;
  // The pack step reports its archive's size and SHA-256; a lying sandbox reports the forged archive's.
  const attacker = observeCommands(fx.backend, async (script, args) => {
    if (!script.includes("tar -c")) return;
    await fx.backend.runCode("forged", "python", `OUT = ${JSON.stringify(args[3])}\n${forge}`, 30);
    return (await fx.sh("forged", `wc -c < ${args[3]}; sha256sum < ${args[3]}`)).trim().split("\n");
  });
  const err = await syncBack(attacker.backend, session).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SyncError);
  expect((err as SyncError).code).toBe(ErrorCodes.SYNC_FAILED);
  const message = (err as SyncError).message;
  expect(message).toContain("refused");
  expect(message).toContain('"../escape.txt"');
  expect(message).toContain("SymbolicLink");
  expect(await readdir(join(fx.dir, "forged")).then((l) => l.sort())).toEqual(["ws"]);
  expect(await readdir(host)).toEqual(["a.txt"]);
  expect(await readFile(join(host, "a.txt"), "utf8")).toBe("host a\n");
  await expect(lstat("/tmp/abs-escape.txt")).rejects.toThrow();
});
