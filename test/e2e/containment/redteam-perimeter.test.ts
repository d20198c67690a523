import { request } from "node:http";
import { lstat, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorText, rawRpc, rawStart } from "../../helpers/raw-rpc.js";
import { descendantsOf, startContainmentServer, type ContainmentServer } from "./containment-fixture.js";

// Attacks on the dev server from the network side and through odd start parameters, with the
// server as root (as CI runs it). Each must be refused (or contained), start nothing it should
// not, and leave the server answering; where cheap, a control shows the same request done right
// works.

let s: ContainmentServer;
let ws: string;

beforeAll(async () => {
  s = await startContainmentServer("root");
  ws = await s.folder("ws");
  await s.folder("ro");
}, 60_000);
afterAll(async () => {
  await s?.close();
});

interface Raw {
  status: number;
  body: string;
}

/** node:http (fetch forbids setting Host), with a raw body string. */
function raw(headers: Record<string, string>, body: string, route = "/api/v1/rpc"): Promise<Raw> {
  const url = new URL(s.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: route,
        method: "POST",
        headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), ...headers },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const startBody = (name: string) =>
  JSON.stringify({
    jsonrpc: "2.0",
    id: "1",
    method: "sandbox.start",
    params: { sandbox: name, namespace: "default", config: { image: "microsandbox/python", volumes: [`${ws}:/data`] } },
  });

async function healthy(): Promise<boolean> {
  return fetch(`${s.url}/api/v1/health`).then(
    (r) => r.ok,
    () => false,
  );
}

async function sandboxPids(name: string): Promise<number[]> {
  const out: number[] = [];
  for (const pid of await descendantsOf(s.pid)) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmd.includes(`msbv-sandbox:${name}:`)) out.push(pid);
  }
  return out;
}

describe("redteam: the dev server's perimeter (server as root)", () => {
  it("R1 Host header tricks: rebinding-style names, trailing dots, userinfo, IPv6 non-loopback and port mismatches get 421; nothing starts", async () => {
    const port = new URL(s.url).port;
    const evil = [
      `localhost.evil.example:${port}`,
      `127.0.0.1.nip.io:${port}`,
      `localhost.:${port}`,
      `evil.localhost.example:${port}`,
      `127.0.0.1:${Number(port) + 1}`,
      `localhost`,
      `[::2]:${port}`,
      `[::ffff:10.0.0.1]:${port}`,
      `0.0.0.0:${port}`,
      `127.0.0.1:${port}@evil.example`,
      `evil.example:${port}, 127.0.0.1:${port}`,
      `2130706433:${port}`,
      `0x7f000001:${port}`,
    ];
    const statuses: Record<string, number> = {};
    for (const [i, host] of evil.entries()) statuses[host] = (await raw({ host }, startBody(`host-trick-${i}`))).status;
    for (const host of evil) expect(statuses[host], `${host}: ${JSON.stringify(statuses)}`).toBe(421);
    for (const [i] of evil.entries()) expect(await sandboxPids(`host-trick-${i}`)).toEqual([]);
    // Control: loopback spellings with the right port are served.
    for (const host of [`127.0.0.1:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`, `[::ffff:127.0.0.1]:${port}`]) {
      const reply = await raw({ host }, JSON.stringify({ jsonrpc: "2.0", id: "1", method: "msbv.capabilities", params: {} }));
      expect(reply.status, host).toBe(200);
    }
  });

  it("R2 deeply nested JSON (a million levels, within the 2 MB limit) and an oversized body neither crash nor wedge the server", async () => {
    const depth = 1_000_000;
    for (const body of [
      "[".repeat(depth) + "]".repeat(depth),
      `{"jsonrpc":"2.0","id":1,"method":"sandbox.start","params":${'{"a":'.repeat(300_000)}1${"}".repeat(300_000)}}`,
    ]) {
      const reply = await raw({ host: new URL(s.url).host }, body).catch((e: unknown) => ({ status: -1, body: String(e) }));
      expect(reply.status, reply.body.slice(0, 200)).toBeGreaterThanOrEqual(400);
      expect(await healthy()).toBe(true);
    }
    const big = await raw({ host: new URL(s.url).host }, `{"x":"${"a".repeat(3 * 1024 * 1024)}"}`).catch(() => ({ status: 413, body: "closed" }));
    expect(big.status).toBe(413);
    expect(await healthy()).toBe(true);
    // Control: the server still starts sandboxes.
    const ok = await rawStart(s.url, "after-nesting", { volumes: [`${ws}:/data`] });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    await rawRpc(s.url, "sandbox.stop", { sandbox: "after-nesting" });
  }, 60_000);

  it("R3 sandbox names with unicode look-alikes, RTL overrides, control characters, '..' and '/' are refused before anything is written", async () => {
    const names = [
      "evil\u202Egnp.exe",
      "a\u0000b",
      "a\nb",
      "a\u001b[2Jb",
      "..",
      "../x",
      "a/b",
      "ѕandbox",
      "sb\u200B",
      " sb",
      "sb ",
      "a".repeat(300),
      "",
    ];
    for (const name of names) {
      const reply = await rawStart(s.url, name, { volumes: [`${ws}:/data`] });
      expect(reply.status, JSON.stringify(name)).toBe(400);
    }
    const stateEntries = await readdir(path.join(s.serverDir, ".menv")).catch(() => [] as string[]);
    for (const entry of stateEntries) expect(names).not.toContain(entry);
    const sandboxfile = await readFile(path.join(s.serverDir, "Sandboxfile"), "utf8").catch(() => "");
    for (const name of names.filter((n) => n.length > 2)) expect(sandboxfile).not.toContain(name);
  });

  it("R4 readonly_volumes naming a guest that is not a volume, a parent of one, or a sibling spelling is refused; nothing starts writable by mistake", async () => {
    const cases: Array<[string[], string[]]> = [
      [[`${ws}:/data`], ["/etc"]],
      [[`${ws}:/data/sub`], ["/data"]],
      [[`${ws}:/data`], ["/data/sub"]],
      [[`${ws}:/data`], ["/dat"]],
      [[`${ws}:/data`], ["data"]],
      [[`${ws}:/data`], ["/data/../etc"]],
    ];
    for (const [i, [volumes, ro]] of cases.entries()) {
      const reply = await rawStart(s.url, `ro-trick-${i}`, { volumes, readonly_volumes: ro });
      expect(reply.status, `${JSON.stringify(ro)}: ${errorText(reply)}`).toBe(400);
    }
    // Control: the exact guest (trailing slash allowed) is read-only inside.
    const ok = await rawStart(s.url, "ro-ok", { volumes: [`${path.join(s.project, "ro")}:/data`], readonly_volumes: ["/data/"] });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const out = await rawRpc(s.url, "sandbox.command.run", { sandbox: "ro-ok", command: "touch", args: ["/data/x"] });
    expect((out.body.result as { exit_code: number }).exit_code).not.toBe(0);
    expect(await readdir(path.join(s.project, "ro"))).toEqual([]);
    await rawRpc(s.url, "sandbox.stop", { sandbox: "ro-ok" });
  });

  it("R5 a workdir under a read-only volume is not created in the host folder", async () => {
    const ro = path.join(s.project, "ro");
    const reply = await rawStart(s.url, "wd-ro", { volumes: [`${ro}:/data`], readonly_volumes: ["/data"], workdir: "/data/new/deeper" });
    if (reply.status === 200) await rawRpc(s.url, "sandbox.stop", { sandbox: "wd-ro" });
    expect(await readdir(ro)).toEqual([]);
    expect(await healthy()).toBe(true);
  });

  it("R6 MCP sandbox_start with '..'-laden, '~' and encoded paths is refused, and the answer does not reveal whether an outside path exists", async () => {
    const mcp = async (name: string, volumes: string[]) => {
      const res = await fetch(`${s.url}/mcp`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "tools/call",
          params: { name: "sandbox_start", arguments: { sandbox: name, config: { image: "microsandbox/python", volumes } } },
        }),
      });
      const body = (await res.json()) as { result?: { isError?: boolean; content: { text: string }[] } };
      return { isError: body.result?.isError === true, text: (body.result?.content ?? []).map((c) => c.text).join("\n") };
    };
    await mkdir(path.join(s.root, "outside-exists"), { recursive: true });
    await writeFile(path.join(s.root, "outside-exists", "f"), "x");
    const attempts = [
      `${ws}/../../outside-exists:/data`,
      `ws/../../outside-exists:/data`,
      `~/:/data`,
      `~/.ssh:/data`,
      `~root/.ssh:/data`,
      `${ws}/%2e%2e/%2e%2e:/data`,
      `${ws}/../../../../etc:/data`,
      `/proc/self/root/etc:/data`,
      `/proc/${s.pid}/cwd:/data`,
      `/dev/fd/0:/data`,
    ];
    for (const [i, volume] of attempts.entries()) {
      const r = await mcp(`mcp-path-${i}`, [volume]);
      expect(r.isError, `${volume}: ${r.text}`).toBe(true);
      expect(await sandboxPids(`mcp-path-${i}`)).toEqual([]);
    }
    const exists = await mcp("mcp-exists", [`${path.join(s.root, "outside-exists")}:/data`]);
    const missing = await mcp("mcp-missing", [`${path.join(s.root, "outside-missing")}:/data`]);
    expect(exists.isError && missing.isError).toBe(true);
    expect(exists.text.replaceAll("outside-exists", "X")).toBe(missing.text.replaceAll("outside-missing", "X"));
    expect(await lstat(path.join(s.root, "outside-exists", "f")).then(() => true)).toBe(true);
  });

  it("R7 pid 1 killed from inside: the sandbox ends, the server notices, stays up, and the same name starts again", async () => {
    const first = await rawStart(s.url, "pid1", { volumes: [`${ws}:/data`] });
    expect(first.status).toBe(200);
    await rawRpc(s.url, "sandbox.command.run", {
      sandbox: "pid1",
      command: "/usr/bin/python3",
      args: ["-c", "import os, signal\ntry: os.kill(1, signal.SIGKILL)\nexcept OSError: pass\nos.kill(-1, signal.SIGKILL)"],
    });
    for (let i = 0; i < 100 && (await sandboxPids("pid1")).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await sandboxPids("pid1")).toEqual([]);
    expect(await healthy()).toBe(true);
    const again = await rawStart(s.url, "pid1", { volumes: [`${ws}:/data`] });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    const out = await rawRpc(s.url, "sandbox.command.run", { sandbox: "pid1", command: "echo", args: ["alive"] });
    expect(JSON.stringify(out.body.result)).toContain("alive");
    await rawRpc(s.url, "sandbox.stop", { sandbox: "pid1" });
  });

  it("R8 concurrent start/stop of one name from two clients leaves no orphan process and a consistent state", async () => {
    const name = "flip";
    const ops: Array<Promise<unknown>> = [];
    for (let i = 0; i < 12; i++) {
      ops.push(rawStart(s.url, name, { volumes: [`${ws}:/data`] }));
      ops.push(rawRpc(s.url, "sandbox.stop", { sandbox: name }));
    }
    await Promise.allSettled(ops);
    await rawRpc(s.url, "sandbox.stop", { sandbox: name });
    for (let i = 0; i < 100 && (await sandboxPids(name)).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await sandboxPids(name)).toEqual([]);
    // Control: it starts again cleanly and exactly one tree runs.
    expect((await rawStart(s.url, name, { volumes: [`${ws}:/data`] })).status).toBe(200);
    const bwraps = [];
    for (const pid of await sandboxPids(name)) {
      const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
      if (stat.includes("(bwrap)")) bwraps.push(pid);
    }
    expect(bwraps.length).toBeLessThanOrEqual(2); // bwrap's outer and its pid-1 child
    await rawRpc(s.url, "sandbox.stop", { sandbox: name });
  }, 120_000);
});
