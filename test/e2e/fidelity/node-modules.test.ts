import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeSandbox } from "../../../src/index.js";
import { startFixture, type DevServerFixture } from "../../helpers/dev-server-fixture.js";

// Issue 12 item 12: agents save skills as modules in the workspace and load them from the Node REPL.
// `await import()` used to fail with ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING.

let fx: DevServerFixture;
let sb: NodeSandbox;
beforeAll(async () => {
  fx = await startFixture();
  await writeFile(join(fx.dir, "ws", "skill.mjs"), "export const answer = 42;\nexport default function greet(n) { return `hi ${n}`; }\n");
  await writeFile(join(fx.dir, "ws", "helper.cjs"), "module.exports = { twice: (x) => x * 2 };\n");
  sb = await NodeSandbox.create({
    name: "node-modules",
    serverUrl: fx.url,
    configPath: fx.configPath,
    volumes: ["./ws:/workspace"],
    workdir: "/workspace",
  });
});
afterAll(async () => {
  await sb?.stop();
  await fx?.close();
});

async function out(code: string): Promise<{ stdout: string; stderr: string }> {
  const exec = await sb.run(code);
  return { stdout: await exec.output(), stderr: await exec.error() };
}

describe("NodeSandbox.run loads workspace modules", () => {
  it("await import() of an absolute path", async () => {
    expect(await out("const skill = await import('/workspace/skill.mjs');\nconsole.log(skill.answer, skill.default('ada'))")).toEqual({
      stdout: "42 hi ada",
      stderr: "",
    });
  });

  it("await import() of a relative path resolves against the working directory", async () => {
    expect(await out("console.log((await import('./skill.mjs')).answer)")).toEqual({ stdout: "42", stderr: "" });
  });

  it("import() in a non-async run returns a promise that resolves", async () => {
    await out("globalThis.loaded = import('/workspace/skill.mjs')");
    expect(await out("console.log((await loaded).answer)")).toEqual({ stdout: "42", stderr: "" });
  });

  it("require of a CommonJS module, absolute and relative", async () => {
    expect(await out("console.log(require('/workspace/helper.cjs').twice(4), require('./helper.cjs').twice(5))")).toEqual({
      stdout: "8 10",
      stderr: "",
    });
  });

  it("a new module written after start is loadable too", async () => {
    await writeFile(join(fx.dir, "ws", "later.mjs"), "export const late = 'yes';\n");
    expect(await out("console.log((await import('/workspace/later.mjs')).late)")).toEqual({ stdout: "yes", stderr: "" });
  });

  it("a top-level static import fails as in Node's REPL, naming the dynamic import", async () => {
    const { stdout, stderr } = await out("import { answer } from '/workspace/skill.mjs'");
    expect(stdout).toBe("");
    expect(stderr).toContain(
      'Cannot use import statement inside the Node.js REPL, alternatively use dynamic import: const { answer } = await import("/workspace/skill.mjs");',
    );
  });
});
