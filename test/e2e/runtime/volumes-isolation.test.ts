import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DevServerError, ErrorCodes, HostPathError } from "../../../src/errors/index.js";
import { createRuntimeFixture, stdout, type RuntimeFixture } from "../../helpers/runtime-fixture.js";

describe("bwrap runtime volumes and isolation", () => {
  let fx: RuntimeFixture;
  let wsA: string;
  let wsB: string;
  let server: Server;
  let port = 0;
  const probe = `msbv-probe-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    fx = await createRuntimeFixture();
    wsA = await fx.newDir("ws-a");
    wsB = await fx.newDir("ws-b");
    server = createServer((socket) => socket.end("host-secret\n"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
    await Promise.all([
      fx.runtime.start(fx.spec("a", { volumes: [{ host: wsA, guest: "/workspace" }] })),
      fx.runtime.start(fx.spec("b", { image: "microsandbox/node", volumes: [{ host: wsB, guest: "/workspace" }] })),
    ]);
  });
  afterAll(async () => {
    await fx?.dispose();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("writes through the volume to the host while the sandbox runs, and a later sandbox reads it back", async () => {
    const bytes = "héllo from the sandbox\n\u0000binary\u00ff";
    const out = await fx.runtime.runRepl(
      "a",
      "python",
      `with open('/workspace/notes.txt', 'w', encoding='utf-8') as f:\n    _ = f.write(${JSON.stringify(bytes)})`,
    );
    expect(out).toEqual([]);
    expect(fx.runtime.isRunning("a")).toBe(true);
    expect(await readFile(path.join(wsA, "notes.txt"), "utf8")).toBe(bytes);
    await fx.runtime.start(fx.spec("later", { volumes: [{ host: wsA, guest: "/data" }], workdir: "/data" }));
    const back = await fx.runtime.runRepl("later", "python", `print(open('notes.txt', encoding='utf-8').read() == ${JSON.stringify(bytes)})`);
    expect(back).toEqual([{ stream: "stdout", text: "True" }]);
    await writeFile(path.join(wsA, "from-host.txt"), "host wrote this");
    expect(stdout((await fx.runtime.runCommand("later", "cat", ["/data/from-host.txt"])).output)).toBe("host wrote this");
    await fx.runtime.stop("later");
  });

  it("cannot write to /usr, the host home, the state dir or another sandbox's workspace", async () => {
    const targets = [
      `/usr/${probe}`,
      `/usr/local/${probe}`,
      path.join(wsB, probe),
      path.join(fx.stateDir, probe),
      path.join(fx.stateDir, "b", "rw", "home", probe),
    ];
    const code = [
      "import os",
      `for target in ${JSON.stringify(targets)}:`,
      "    try:",
      "        with open(target, 'w') as f:",
      "            _ = f.write('x')",
      "        print('WROTE', target)",
      "    except OSError as e:",
      "        print('denied', type(e).__name__)",
    ].join("\n");
    const out = await fx.runtime.runRepl("a", "python", code);
    expect(stdout(out)).not.toContain("WROTE");
    expect(out.filter((l) => l.text.startsWith("denied"))).toHaveLength(targets.length);
    for (const target of targets) expect(existsSync(target)).toBe(false);
  });

  it("writes to /, /etc and /root land in the sandbox's own root layer, not on the host nor in another sandbox", async () => {
    // A microVM has a writable root; ours is <state>/<name>/rw/root bound at /.
    const targets = [`/etc/${probe}`, `/root/${probe}`, `/${probe}`];
    const write = await fx.runtime.runRepl("a", "python", `for t in ${JSON.stringify(targets)}:\n    _ = open(t, 'w').write('mine')\nprint('ok')`);
    expect(stdout(write)).toBe("ok");
    for (const target of targets) {
      expect(existsSync(target)).toBe(false);
      expect(existsSync(path.join(fx.stateDir, "a", "rw", "root", target))).toBe(true);
    }
    const other = await fx.runtime.runRepl("b", "python", `import os\nprint([os.path.exists(t) for t in ${JSON.stringify(targets)}])`);
    expect(stdout(other)).toBe("[False, False, False]");
    await fx.runtime.runRepl("a", "python", `import os\nfor t in ${JSON.stringify(targets)}:\n    os.remove(t)`);
  });

  it("sees a minimal /etc, no host home and no other sandbox's processes", async () => {
    const etc = await fx.runtime.runCommand("a", "ls", ["-A", "/etc"]);
    expect(etc.output.map((l) => l.text)).not.toContain("shadow");
    const passwd = stdout((await fx.runtime.runCommand("a", "cat", ["/etc/passwd"])).output);
    expect(passwd).toContain("python-user");
    const hostUsers = (await readFile("/etc/passwd", "utf8"))
      .split("\n")
      .map((line) => line.split(":")[0])
      .filter((u) => u && !["root", "nobody", "node"].includes(u));
    for (const user of hostUsers) expect(passwd).not.toContain(`${user}:`);
    expect((await fx.runtime.runCommand("a", "ls", ["-A", "/root"])).output).toEqual([]);
    await fx.runtime.runRepl("b", "node", "1");
    const procs = await fx.runtime.runRepl(
      "a",
      "python",
      [
        "import os",
        "cmds = [open(f'/proc/{p}/cmdline', 'rb').read() for p in os.listdir('/proc') if p.isdigit()]",
        "print(len(cmds))",
        "print(any(b'msbv-sandbox:a' in c for c in cmds))",
        "print(any(b'msbv-sandbox:b' in c for c in cmds))",
      ].join("\n"),
    );
    const [count, seesOwn, seesOther] = procs.map((l) => l.text);
    // bubblewrap's init, the supervisor and the python REPL: nothing of the host or of sandbox b.
    expect(Number(count)).toBeLessThan(6);
    expect(seesOwn).toBe("True");
    expect(seesOther).toBe("False");
  });

  it("has no network: a host TCP server is unreachable", async () => {
    const out = await fx.runtime.runRepl(
      "a",
      "python",
      `import socket\ntry:\n    socket.create_connection(('127.0.0.1', ${port}), timeout=2).recv(100)\n    print('CONNECTED')\nexcept OSError as e:\n    print('refused', type(e).__name__)`,
    );
    expect(stdout(out)).toMatch(/^refused /);
  });

  it("refuses a state-dir volume and a mount point behind a symlink the sandbox planted", async () => {
    await expect(fx.runtime.start(fx.spec("bad", { volumes: [{ host: fx.stateDir, guest: "/workspace" }] }))).rejects.toBeInstanceOf(DevServerError);
    await expect(fx.runtime.start(fx.spec("bad2", { volumes: [{ host: fx.root, guest: "/workspace" }] }))).rejects.toBeInstanceOf(DevServerError);
    expect(fx.runtime.isRunning("bad")).toBe(false);
    await fx.runtime.start(fx.spec("planter"));
    await fx.runtime.runCommand("planter", "ln", ["-s", "../../../../../../..", "/home/python-user/escape"]);
    await fx.runtime.stop("planter");
    const error = await fx.runtime
      .start(fx.spec("planter", { volumes: [{ host: wsB, guest: "/home/python-user/escape/tmp/x" }] }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostPathError);
    expect((error as HostPathError).code).toBe(ErrorCodes.HOST_PATH_DENIED);
    expect((error as Error).message).toContain("symlink");
    expect(existsSync("/tmp/x")).toBe(false);
  });
});
