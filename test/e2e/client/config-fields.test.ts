import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeSandbox, PythonSandbox, type SandboxOptions } from "../../../src/index.js";
import { startFixture, type DevServerFixture } from "../../helpers/dev-server-fixture.js";

// One test per sandbox.start config field: the dev server's received log (and GET /_dev/received)
// proves the field reached the server — the bug this package fixes is that upstream dropped them.

let fx: DevServerFixture;
beforeAll(async () => {
  fx = await startFixture();
});
afterAll(async () => {
  await fx?.close();
});

let counter = 0;
async function startWith(options: SandboxOptions, kind: "python" | "node" = "python") {
  const name = `field-${++counter}`;
  const opts = { ...options, name, serverUrl: fx.url, configPath: fx.configPath };
  const sb = kind === "python" ? await PythonSandbox.create(opts) : await NodeSandbox.create(opts);
  const entry = fx.received.findLast((r) => r.sandbox === name);
  return { sb, config: entry?.config as Record<string, unknown> };
}

describe("every config field reaches the server", () => {
  it("volumes (and the mount works)", async () => {
    const { sb, config } = await startWith({ volumes: ["./ws:/workspace"] });
    try {
      expect(config.volumes).toEqual([`${fx.dir}/ws:/workspace`]);
      await sb.run("open('/workspace/from-guest.txt', 'w').write('mounted')");
      expect(await readFile(join(fx.dir, "ws", "from-guest.txt"), "utf8")).toBe("mounted");
    } finally {
      await sb.stop();
    }
  });

  it("ports", async () => {
    const { sb, config } = await startWith({ ports: ["18080:80"] });
    await sb.stop();
    expect(config.ports).toEqual(["18080:80"]);
  });

  it("envs (visible inside)", async () => {
    const { sb, config } = await startWith({ envs: ["GREETING=hi there"] });
    try {
      expect(config.envs).toEqual(["GREETING=hi there"]);
      const exec = await sb.run("import os; print(os.environ['GREETING'])");
      expect(await exec.output()).toBe("hi there");
    } finally {
      await sb.stop();
    }
  });

  it("depends_on (snake case on the wire)", async () => {
    const { sb, config } = await startWith({ dependsOn: ["db"] });
    await sb.stop();
    expect(config.depends_on).toEqual(["db"]);
    expect(config).not.toHaveProperty("dependsOn");
  });

  it("workdir (the REPL's cwd)", async () => {
    const { sb, config } = await startWith({ volumes: ["./ws:/workspace"], workdir: "/workspace" });
    try {
      expect(config.workdir).toBe("/workspace");
      const exec = await sb.run("import os; print(os.getcwd())");
      expect(await exec.output()).toBe("/workspace");
    } finally {
      await sb.stop();
    }
  });

  it("shell", async () => {
    const { sb, config } = await startWith({ shell: "/bin/sh" });
    await sb.stop();
    expect(config.shell).toBe("/bin/sh");
  });

  it("scripts", async () => {
    const { sb, config } = await startWith({ scripts: { hello: "echo hello" } });
    await sb.stop();
    expect(config.scripts).toEqual({ hello: "echo hello" });
  });

  it("memory", async () => {
    const { sb, config } = await startWith({ memory: 1024 });
    await sb.stop();
    expect(config.memory).toBe(1024);
  });

  it("cpus (rounded to an integer)", async () => {
    const { sb, config } = await startWith({ cpus: 1.6 });
    await sb.stop();
    expect(config.cpus).toBe(2);
  });

  it("image (explicit tag, and the class default otherwise)", async () => {
    const tagged = await startWith({ image: "microsandbox/node:latest" }, "node");
    try {
      expect(tagged.config.image).toBe("microsandbox/node:latest");
      const exec = await tagged.sb.run("console.log(typeof process.versions.node)");
      expect(await exec.output()).toBe("string");
    } finally {
      await tagged.sb.stop();
    }
    const plain = await startWith({}, "node");
    await plain.sb.stop();
    expect(plain.config).toEqual({ image: "microsandbox/node", memory: 512, cpus: 1 });
  });

  it("GET /_dev/received serves the same log", async () => {
    const res = await fetch(`${fx.url}/_dev/received`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as unknown;
    const list = Array.isArray(body) ? body : (body as { received: unknown[] }).received;
    expect(list).toHaveLength(fx.received.length);
  });
});
