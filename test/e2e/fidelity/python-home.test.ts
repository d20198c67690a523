import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeSandbox, PythonSandbox } from "../../../src/index.js";
import { startFixture, type DevServerFixture } from "../../helpers/dev-server-fixture.js";

// Issue 12 items 1 and 3: `python` (and `pip` when the host has one) is on PATH in
// microsandbox/python, as in upstream's python:latest based image; `$HOME` exists when `workdir`
// points elsewhere.

let fx: DevServerFixture;
beforeAll(async () => {
  fx = await startFixture();
});
afterAll(async () => {
  await fx?.close();
});

describe("upstream image commands", () => {
  it("python /tmp/test.py runs (upstream examples/command.ts style); python is the REPL's python3", async () => {
    await using sb = await PythonSandbox.create({ name: "python-on-path", serverUrl: fx.url, configPath: fx.configPath });
    await sb.run("open('/tmp/test.py', 'w').write('import sys\\nprint(\"Hello from test.py\", sys.version_info[0])\\n')");
    const exec = await sb.command.run("python", ["/tmp/test.py"]);
    expect(exec.exitCode).toBe(0);
    expect(await exec.output()).toBe("Hello from test.py 3");
    const same = await sb.command.run("sh", [
      "-c",
      'python -c "import sys; print(sys.executable)"; readlink -f "$(command -v python)"; python3 -c "import os, sys; print(os.path.realpath(sys.executable))"',
    ]);
    const [, linked, real] = (await same.output()).split("\n");
    expect(linked).toBe(real);
    // The root is writable (as in a microVM), so code may swap the alias; the next start restores it.
    const swap = await sb.command.run("sh", ["-c", 'ln -sf /bin/false "$(dirname "$(command -v python)")/python"']);
    expect(swap.exitCode).toBe(0);
    expect((await sb.command.run("python", ["-c", "print(1)"])).exitCode).not.toBe(0);
    await sb.stop();
    await sb.start();
    expect(await (await sb.command.run("python", ["-c", "print(1)"])).output()).toBe("1");
  });

  it("pip is on PATH exactly when the host has a system pip3", async () => {
    await using sb = await PythonSandbox.create({ name: "pip-on-path", serverUrl: fx.url, configPath: fx.configPath });
    const exec = await sb.command.run("sh", ["-c", "command -v pip"]);
    const hostHasPip = existsSync("/usr/bin/pip3") || existsSync("/usr/local/bin/pip3");
    expect(exec.exitCode === 0).toBe(hostHasPip);
  });
});

describe("$HOME exists when workdir is set", () => {
  it("python: expanduser('~') is a writable folder", async () => {
    await using sb = await PythonSandbox.create({
      name: "home-python",
      serverUrl: fx.url,
      configPath: fx.configPath,
      volumes: ["./ws:/workspace"],
      workdir: "/workspace",
    });
    const exec = await sb.run("import os\np = os.path.expanduser('~')\n_ = open(os.path.join(p, 'note'), 'w').write('x')\nprint(p, os.getcwd())");
    expect(await exec.error()).toBe("");
    expect(await exec.output()).toBe("/home/python-user /workspace");
  });

  it("node: os.homedir() exists", async () => {
    await using sb = await NodeSandbox.create({
      name: "home-node",
      serverUrl: fx.url,
      configPath: fx.configPath,
      volumes: ["./ws:/workspace"],
      workdir: "/workspace",
    });
    const exec = await sb.run(
      "const os = require('node:os'); const fs = require('node:fs'); console.log(os.homedir(), fs.statSync(os.homedir()).isDirectory(), process.cwd())",
    );
    expect(await exec.output()).toBe("/home/node true /workspace");
  });
});
