import { spawnSync } from "node:child_process";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorText, rawRpc, rawStart } from "../../helpers/raw-rpc.js";
import { snapshotTree, startSafetyServer, type SafetyServer } from "../../helpers/safety-fixture.js";

// Raw JSON-RPC bypasses the client: the dev server itself must refuse what the client refuses, and
// leave the host untouched (no folder created, no Sandboxfile entry, no sandbox running).

let s: SafetyServer;
let ws: string;
let outside: string;
beforeAll(async () => {
  s = await startSafetyServer();
  ws = path.join(s.project, "ws");
  outside = path.join(s.root, "outside");
  await mkdir(outside);
  await writeFile(path.join(outside, "secret.txt"), "outside the allowed root\n");
});
afterAll(async () => {
  await s?.close();
});

const sandboxfile = () => readFile(path.join(s.serverDir, "Sandboxfile"), "utf8").catch(() => "");

async function expectRefused(name: string, config: Record<string, unknown>, reason: string | RegExp): Promise<string> {
  const before = await sandboxfile();
  const reply = await rawStart(s.url, name, config);
  expect(reply.status, JSON.stringify(reply.body)).toBe(400);
  expect(reply.body.code).toBe(2001);
  const text = errorText(reply);
  if (typeof reason === "string") expect(text).toContain(reason);
  else expect(text).toMatch(reason);
  expect(await sandboxfile()).toBe(before);
  expect(await s.runningSandboxes()).not.toContain(name);
  return text;
}

describe("raw sandbox.start: host paths", () => {
  it("a symlink planted in a mounted folder (ws/data -> ../../outside) is refused, never followed", async () => {
    // What a sandbox with ws mounted can do between two starts.
    await symlink("../../outside", path.join(ws, "data"));
    const before = await snapshotTree(outside);
    await expectRefused("planted", { volumes: [`${ws}/data:/d`] }, /is a symlink.*\(MSBV_HOST_PATH_DENIED\)/);
    await expectRefused("planted", { volumes: [`${ws}/data/sub:/d`] }, /goes through the symlink.*\(MSBV_HOST_PATH_DENIED\)/);
    await symlink("/etc", path.join(ws, "etc-link"));
    await expectRefused("planted", { volumes: [`${ws}/etc-link:/d`] }, "(MSBV_HOST_PATH_DENIED)");
    expect(await snapshotTree(outside)).toEqual(before);
  });

  it("/etc and other system folders are refused", async () => {
    await expectRefused("sys", { volumes: ["/etc:/hostetc"] }, /a system folder.*\(MSBV_HOST_PATH_DENIED\)/);
    await expectRefused("sys", { volumes: ["/usr/share:/x"] }, "a system folder");
    await expectRefused("sys", { volumes: ["/:/host"] }, "the filesystem root");
  });

  it("a path outside the allowed roots is refused with the same message whether it exists or not", async () => {
    const present = await expectRefused("out", { volumes: [`${outside}:/o`] }, /outside the allowed roots.*\(MSBV_HOST_PATH_DENIED\)/);
    const missing = await expectRefused("out", { volumes: [`${path.join(s.root, "no-such-folder")}:/o`] }, "outside the allowed roots");
    const generic = (t: string) => t.replaceAll(outside, "<P>").replaceAll(path.join(s.root, "no-such-folder"), "<P>");
    expect(generic(present)).toBe(generic(missing));
  });

  it("the server's own state is refused", async () => {
    await expectRefused("state", { volumes: [`${s.serverDir}:/x`] }, "contains a folder the server refuses to share");
    await expectRefused("state", { volumes: [`${path.join(s.serverDir, ".menv")}:/x`] }, "a folder the server refuses to share");
  });
});

describe("raw sandbox.start: workdir", () => {
  it("control: bubblewrap given --dir /../oldroot/<host path> creates that folder on the host", () => {
    const target = path.join(s.root, "created-by-control");
    const r = spawnSync("bwrap", [
      "--unshare-all",
      "--die-with-parent",
      "--tmpfs",
      "/",
      "--ro-bind",
      "/usr",
      "/usr",
      "--symlink",
      "usr/bin",
      "/bin",
      "--symlink",
      "usr/lib",
      "/lib",
      "--symlink",
      "usr/lib64",
      "/lib64",
      "--dir",
      `/../oldroot${target}`,
      "--",
      "/bin/true",
    ]);
    expect(r.status, String(r.stderr)).toBe(0);
    expect(spawnSync("test", ["-d", target]).status).toBe(0);
  });

  it("workdir /../oldroot/… is refused and creates nothing on the host", async () => {
    const target = path.join(s.root, "created-by-attack");
    const before = await snapshotTree(s.root);
    await expectRefused("wd", { volumes: [`${ws}:/workspace`], workdir: `/../oldroot${target}` }, 'must not contain ".."');
    await expectRefused("wd", { workdir: "/etc/x" }, "reserved system folder /etc");
    await expectRefused("wd", { workdir: "relative" }, "must be an absolute path");
    expect(spawnSync("test", ["-e", target]).status).not.toBe(0);
    // Same MCP route, same refusal.
    const mcp = await fetch(`${s.url}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "sandbox_start", arguments: { sandbox: "wd", config: { image: "microsandbox/python", workdir: `/../oldroot${target}` } } },
      }),
    }).then((r) => r.json() as Promise<{ result: { isError?: boolean; content: { text: string }[] } }>);
    expect(mcp.result.isError).toBe(true);
    expect(mcp.result.content[0]?.text).toContain('must not contain ".."');
    expect(spawnSync("test", ["-e", target]).status).not.toBe(0);
    const after = await snapshotTree(s.root);
    // Only the server's log/state may change, never a folder named by the attack.
    expect([...after.keys()].filter((k) => k.includes("created-by-attack"))).toEqual([]);
    expect(before.size).toBeGreaterThan(0);
  });

  it("a normal workdir inside a volume still works", async () => {
    const reply = await rawStart(s.url, "wd-ok", { volumes: [`${ws}:/workspace`], workdir: "/workspace" });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    const run = await rawRpc(s.url, "sandbox.command.run", { sandbox: "wd-ok", command: "pwd", args: [] });
    expect(JSON.stringify(run.body.result)).toContain("/workspace");
    await rawRpc(s.url, "sandbox.stop", { sandbox: "wd-ok" });
  });
});
