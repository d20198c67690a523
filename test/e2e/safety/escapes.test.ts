import { createHash } from "node:crypto";
import { createServer, type Server } from "node:net";
import { lstat, mkdir, readFile, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes, PythonSandbox, Workspace } from "../../../src/index.js";
import {
  pidNamespaces,
  processesInNamespaces,
  processesMentioning,
  snapshotTree,
  startSafetyServer,
  type SafetyServer,
} from "../../helpers/safety-fixture.js";
import { caught } from "../../helpers/caught.js";
import { errorText, rawStart } from "../../helpers/raw-rpc.js";

// Escape attempts from inside real sandboxes (dev server, bubblewrap) through the public client
// (attempt 3, the symlink swap race, is in symlink-swap.test.ts).
// Every one must fail, and the host must never hand out content from outside a mount.

let s: SafetyServer;
let a: PythonSandbox;
let b: PythonSandbox;
let wsA: string;
let wsB: string;
let secretDir: string;
let tcp: Server;
let tcpPort = 0;

const sha = async (file: string) =>
  createHash("sha256")
    .update(await readFile(file))
    .digest("hex");

async function py(sb: PythonSandbox, code: string): Promise<string> {
  const exec = await sb.run(code);
  const err = await exec.error();
  if (exec.hasError()) throw new Error(`sandbox code failed: ${err}`);
  return exec.output();
}

beforeAll(async () => {
  s = await startSafetyServer();
  wsA = path.join(s.project, "ws-a");
  wsB = path.join(s.project, "ws-b");
  secretDir = path.join(s.root, "secret");
  await mkdir(wsA);
  await mkdir(wsB);
  await mkdir(secretDir);
  await writeFile(path.join(secretDir, "f.txt"), "SECRET");
  await writeFile(path.join(s.root, "secret.txt"), "SECRET");
  await writeFile(path.join(wsB, "b-secret.txt"), "B ONLY");
  await writeFile(path.join(s.project, "not-mounted.txt"), "project file");
  tcp = createServer((socket) => socket.end("host-service\n"));
  await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
  tcpPort = (tcp.address() as { port: number }).port;
  const base = { serverUrl: s.url, configPath: s.configPath };
  [a, b] = await Promise.all([
    PythonSandbox.create({ ...base, name: "sbx-a", volumes: ["./ws-a:/workspace"] }),
    PythonSandbox.create({ ...base, name: "sbx-b", volumes: ["./ws-b:/workspace"] }),
  ]);
});
afterAll(async () => {
  await a?.stop().catch(() => undefined);
  await b?.stop().catch(() => undefined);
  await new Promise((resolve) => tcp?.close(resolve));
  await s?.close();
});

describe("escape attempts from inside a sandbox", () => {
  it("1. cannot write outside its mounts: /etc, /usr, /root, /, the server's and the client's project dirs", async () => {
    // /, /etc and /root are the sandbox's own writable root layer (as in a microVM): writes there
    // succeed but land in <state>/<name>/rw/root, never on the host's files of the same name.
    const ownLayer = new Set(["/etc/msbv-escape", "/root/msbv-escape", "/msbv-escape"]);
    const targets = [
      "/etc/msbv-escape",
      "/etc/passwd",
      "/usr/msbv-escape",
      "/usr/local/msbv-escape",
      "/root/msbv-escape",
      "/msbv-escape",
      path.join(s.serverDir, "msbv-escape"),
      path.join(s.serverDir, "Sandboxfile"),
      path.join(s.project, "msbv-escape"),
      path.join(s.project, "not-mounted.txt"),
      path.join(s.home, "server.key"),
      path.join(wsB, "msbv-escape"),
    ];
    const passwdBefore = await sha("/etc/passwd");
    const serverBefore = await snapshotTree(s.serverDir).then((m) => m.get("./Sandboxfile"));
    const out = await py(
      a,
      [
        "import json",
        "res = {}",
        `for t in ${JSON.stringify(targets)}:`,
        "    try:",
        "        with open(t, 'a') as f:",
        "            _ = f.write('pwned')",
        "        res[t] = 'WROTE'",
        "    except OSError as e:",
        "        res[t] = type(e).__name__",
        "print(json.dumps(res))",
      ].join("\n"),
    );
    const results = JSON.parse(out) as Record<string, string>;
    expect(Object.keys(results)).toEqual(targets);
    for (const t of targets) if (!ownLayer.has(t)) expect(results[t], t).not.toBe("WROTE");
    expect(await sha("/etc/passwd")).toBe(passwdBefore);
    for (const t of [
      "/etc/msbv-escape",
      "/usr/msbv-escape",
      "/root/msbv-escape",
      "/msbv-escape",
      path.join(s.project, "msbv-escape"),
      path.join(s.serverDir, "msbv-escape"),
      path.join(wsB, "msbv-escape"),
    ]) {
      await expect(lstat(t), t).rejects.toMatchObject({ code: "ENOENT" });
    }
    expect(await readFile(path.join(s.project, "not-mounted.txt"), "utf8")).toBe("project file");
    expect(await snapshotTree(s.serverDir).then((m) => m.get("./Sandboxfile"))).toBe(serverBefore);
  });

  it("2. planted symlinks (link -> /etc/passwd, dir -> /, a FIFO): the host's Workspace never returns outside content, and no later mount goes through them", async () => {
    await py(
      a,
      [
        "import os",
        "os.symlink('/etc/passwd', '/workspace/link')",
        "os.symlink('/', '/workspace/dir')",
        `os.symlink(${JSON.stringify(secretDir)}, '/workspace/secretdir')`,
        "os.mkfifo('/workspace/fifo')",
        "open('/workspace/ok.txt', 'w').write('inside')",
      ].join("\n"),
    );
    const ws = await Workspace.open(wsA);
    for (const rel of ["link", "dir/etc/passwd", "secretdir/f.txt", "fifo", "dir/root"]) {
      const e = await caught(ws.readText(rel));
      expect(e.code, rel).toBe(ErrorCodes.WORKSPACE_ESCAPE);
    }
    const listing = await ws.list(".", { recursive: true });
    expect(
      listing
        .filter((e) => e.type === "symlink")
        .map((e) => `${e.path} -> ${e.linkTarget}`)
        .sort(),
    ).toEqual(["dir -> /", "link -> /etc/passwd", `secretdir -> ${secretDir}`]);
    expect(listing.some((e) => e.path.startsWith("dir/") || e.path.startsWith("secretdir/"))).toBe(false);
    const snap = await ws.snapshot();
    expect([...snap.keys()]).toEqual(["ok.txt"]);
    // A host-side write to the link's name is refused; it never writes through it.
    const passwd = await sha("/etc/passwd");
    expect((await caught(ws.write("link", "pwned"))).code).toBe(ErrorCodes.WORKSPACE_ESCAPE);
    expect((await caught(ws.write("dir/etc/passwd", "pwned"))).code).toBe(ErrorCodes.WORKSPACE_ESCAPE);
    expect(await sha("/etc/passwd")).toBe(passwd);
    expect((await lstat(path.join(wsA, "link"))).isSymbolicLink()).toBe(true);

    // Mount sources never come from content the sandbox can write: each of these goes through a link
    // the sandbox planted and is refused before anything reaches the server.
    const starts = s.server.received.length;
    for (const spec of [
      "./ws-a/dir:/data",
      "./ws-a/secretdir:/data",
      "./ws-a/dir/etc:/data",
      "./ws-a/dir/root/.ssh:/data",
      "./ws-a/dir/tmp:/data",
      "./ws-a/secretdir/sub:/data",
    ]) {
      const e = await caught(PythonSandbox.create({ serverUrl: s.url, configPath: s.configPath, name: "through-link", volumes: [spec] }));
      expect(e.code, spec).toBe(ErrorCodes.HOST_PATH_DENIED);
      expect(e.hint, spec).toBeTruthy();
    }
    expect(s.server.received.length).toBe(starts);
  });

  it("4. '..' in guest paths is refused before sending (and the server refuses it too)", async () => {
    const starts = s.server.received.length;
    for (const volumes of [["./ws-a:/workspace/../etc"], ["./ws-a:/../../etc"], [{ host: "./ws-a", guest: "/data/../../usr" }]]) {
      const e = await caught(PythonSandbox.create({ serverUrl: s.url, configPath: s.configPath, name: "dotdot", volumes }));
      expect(e.code).toBe(ErrorCodes.INVALID_VOLUME);
      expect(e.message).toContain("..");
    }
    expect(s.server.received.length).toBe(starts);
    // Bypassing the client: the raw wire is refused by the dev server itself, and nothing runs.
    const reply = await rawStart(s.url, "dotdot", { volumes: [`${wsA}:/workspace/../etc`] });
    expect(reply.status).toBe(400);
    expect(errorText(reply)).toContain("must not contain '..'");
    expect(await s.runningSandboxes()).not.toContain("dotdot");
  });

  it("5. mounting over system paths (/etc, /usr, /proc, /dev, /sys) is refused by the client, and by the server for raw calls", async () => {
    const starts = s.server.received.length;
    for (const guest of ["/etc", "/usr", "/proc", "/dev", "/sys", "/usr/lib/python3", "/etc/ld.so.preload"]) {
      const e = await caught(PythonSandbox.create({ serverUrl: s.url, configPath: s.configPath, name: "sysmount", volumes: [`./ws-a:${guest}`] }));
      expect(e.code, guest).toBe(ErrorCodes.INVALID_VOLUME);
    }
    expect(s.server.received.length).toBe(starts);
    for (const guest of ["/etc", "/usr", "/proc", "/sys"]) {
      // The server judges raw calls with the client's own rules (src/volumes): the same refusal, as a 400.
      const reply = await rawStart(s.url, "sysmount", { volumes: [`${wsA}:${guest}`] });
      expect(reply.status, guest).toBe(400);
      expect(errorText(reply), guest).toContain(`reserved system folder ${guest}`);
      expect(await s.runningSandboxes(), guest).not.toContain("sysmount");
    }
  });

  it("6. sandbox A cannot read or write sandbox B's workspace, not even through /proc/<pid>/root", async () => {
    const bNamespaces = await pidNamespaces(await processesMentioning("--hostname sbx-b "));
    const aNamespaces = await pidNamespaces(await processesMentioning("--hostname sbx-a "));
    const ownNs = [...(await pidNamespaces([process.pid]))];
    for (const ns of ownNs) {
      bNamespaces.delete(ns);
      aNamespaces.delete(ns);
    }
    expect(bNamespaces.size).toBe(1);
    expect(aNamespaces.size).toBe(1);
    expect([...aNamespaces][0]).not.toBe([...bNamespaces][0]);
    const bHostPids = await processesInNamespaces(bNamespaces);
    expect(bHostPids.length).toBeGreaterThan(0);
    await py(b, "import os\nbpid = os.getpid()");
    const bInnerPid = Number(await py(b, "print(bpid)"));

    const candidates = [...bHostPids, bInnerPid].flatMap((pid) => [`/proc/${pid}/root/workspace/b-secret.txt`, `/proc/${pid}/cwd/b-secret.txt`]);
    const out = await py(
      a,
      [
        "import json, os",
        "res = {}",
        `for t in ${JSON.stringify([path.join(wsB, "b-secret.txt"), ...candidates])}:`,
        "    try:",
        "        res[t] = open(t).read()",
        "    except OSError as e:",
        "        res[t] = type(e).__name__",
        `for t in ${JSON.stringify([path.join(wsB, "a-was-here"), `/proc/${bInnerPid}/root/workspace/a-was-here`])}:`,
        "    try:",
        "        open(t, 'w').write('x'); res[t] = 'WROTE'",
        "    except OSError as e:",
        "        res[t] = type(e).__name__",
        // Every process A can see lives in A's own namespace: none of them has B's workspace.
        "seen = [p for p in os.listdir('/proc') if p.isdigit()]",
        "res['leak'] = [p for p in seen if os.path.exists(f'/proc/{p}/root/workspace/b-secret.txt')]",
        "print(json.dumps(res))",
      ].join("\n"),
    );
    const res = JSON.parse(out.split("\n").at(-1) ?? "") as Record<string, unknown>;
    for (const [target, value] of Object.entries(res)) {
      if (target === "leak") expect(value).toEqual([]);
      else expect([target, value]).not.toEqual([target, "B ONLY"]);
    }
    expect(res[path.join(wsB, "a-was-here")]).not.toBe("WROTE");
    // B's REPL pid, read inside A, names a process of A's own namespace (pid numbers repeat across
    // namespaces), so a write there lands in A's own workspace, never in B's.
    if (res[`/proc/${bInnerPid}/root/workspace/a-was-here`] === "WROTE") {
      expect(await readFile(path.join(wsA, "a-was-here"), "utf8")).toBe("x");
    }
    await expect(lstat(path.join(wsB, "a-was-here"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(await readFile(path.join(wsB, "b-secret.txt"), "utf8")).toBe("B ONLY");
  });

  it("7. has no network: cannot reach a service on the host's loopback", async () => {
    const out = await py(
      a,
      [
        "import socket",
        "try:",
        `    socket.create_connection(('127.0.0.1', ${tcpPort}), timeout=3).recv(100)`,
        "    print('CONNECTED')",
        "except OSError as e:",
        "    print('refused', type(e).__name__)",
      ].join("\n"),
    );
    expect(out).toMatch(/^refused/);
  });
});
