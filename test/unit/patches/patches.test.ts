// CI cannot fetch upstream, so this checks what it can without a checkout: each patch is a
// well-formed unified diff that git accepts, touches only its allow-listed files, and the
// sandbox.start body the patched SDKs send (patches/fixtures/start-body.json, itself checked
// against the patched SDKs by `scripts/apply-patches.mjs --verify`) equals what our client sends.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

import { RpcBackend } from "../../../src/backend/rpc-backend.js";
import type { ResolvedSandboxConfig } from "../../../src/config/types.js";
import { parseVolumeSpec } from "../../../src/volumes/index.js";

const root = path.resolve(import.meta.dirname, "../../..");
const patchPath = (name: string) => path.join(root, "patches", name);

const PATCHES: { file: string; allowed: string[] }[] = [
  {
    file: "javascript-sdk-volumes.patch",
    allowed: [
      "README.md",
      "examples/README.md",
      "examples/volumes.ts",
      "jest.config.js",
      "package.json",
      "src/base-sandbox.test.ts",
      "src/base-sandbox.ts",
      "src/command.ts",
      "src/index.ts",
      "src/metrics.ts",
      "src/node-sandbox.ts",
      "src/python-sandbox.ts",
      "src/types.ts",
      "src/volumes.test.ts",
      "src/volumes.ts",
    ].map((f) => `sdk/javascript/${f}`),
  },
  {
    file: "python-sdk-volumes.patch",
    allowed: [
      "DEVELOPMENT.md",
      "README.md",
      "examples/volumes.py",
      "microsandbox/__init__.py",
      "microsandbox/base_sandbox.py",
      "microsandbox/command.py",
      "microsandbox/metrics.py",
      "microsandbox/node_sandbox.py",
      "microsandbox/python_sandbox.py",
      "microsandbox/volumes.py",
      "tests/__init__.py",
      "tests/test_start.py",
      "tests/test_volumes.py",
    ].map((f) => `sdk/python/${f}`),
  },
];

interface StartFixture {
  options: {
    name: string;
    image: string;
    memory: number;
    cpus: number;
    volumes: string[];
    ports: string[];
    envs: string[];
    dependsOn: string[];
    workdir: string;
    shell: string;
    scripts: Record<string, string>;
  };
  body: { jsonrpc: string; method: string; params: { sandbox: string; namespace: string; config: Record<string, unknown> } };
}
const fixture = JSON.parse(readFileSync(patchPath("fixtures/start-body.json"), "utf8")) as StartFixture;

interface FileDiff {
  path: string;
  added: number;
  deleted: number;
  addedLines: string[];
  deletedLines: string[];
  /** The post-image of every hunk (context and added lines). */
  newLines: string[];
}

/**
 * Splits a `git diff` into files and checks every hunk's line counts against its header;
 * throws on the first inconsistency so a hand-edited patch cannot pass.
 */
function parsePatch(text: string): FileDiff[] {
  const files: FileDiff[] = [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  let file: FileDiff | undefined;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i++]!;
    const header = /^diff --git a\/(\S+) b\/(\S+)$/.exec(line);
    if (header) {
      file = { path: header[2]!, added: 0, deleted: 0, addedLines: [], deletedLines: [], newLines: [] };
      files.push(file);
      continue;
    }
    const hunk = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(line);
    if (!hunk) continue;
    if (!file) throw new Error(`hunk before any file header at line ${i}`);
    let oldLeft = Number(hunk[1] ?? 1);
    let newLeft = Number(hunk[2] ?? 1);
    while (oldLeft > 0 || newLeft > 0) {
      const body = lines[i++];
      if (body === undefined) throw new Error(`${file.path}: hunk ends early at line ${i}`);
      const tag = body[0];
      if (tag === "\\") continue; // "\ No newline at end of file"
      if (tag === " " || body === "") {
        oldLeft--;
        newLeft--;
        file.newLines.push(body.slice(1));
      } else if (tag === "-") {
        oldLeft--;
        file.deleted++;
        file.deletedLines.push(body.slice(1));
      } else if (tag === "+") {
        newLeft--;
        file.added++;
        file.addedLines.push(body.slice(1));
        file.newLines.push(body.slice(1));
      } else {
        throw new Error(`${file.path}: unexpected line in hunk at line ${i}: ${JSON.stringify(body)}`);
      }
      if (oldLeft < 0 || newLeft < 0) throw new Error(`${file.path}: hunk longer than its header at line ${i}`);
    }
    const next = lines[i];
    if (next !== undefined && /^[ +-]/.test(next) && !/^(--- |\+\+\+ )/.test(next)) {
      throw new Error(`${file.path}: hunk longer than its header at line ${i + 1}`);
    }
  }
  return files;
}

/** `git apply --numstat` needs no checkout: it only parses the patch. */
function numstat(file: string): { path: string; added: number; deleted: number }[] {
  const out = execFileSync("git", ["apply", "--numstat", file], { cwd: root, encoding: "utf8" });
  return out
    .trim()
    .split("\n")
    .map((row) => {
      const [added, deleted, p] = row.split("\t");
      return { path: p!, added: Number(added), deleted: Number(deleted) };
    });
}

describe.each(PATCHES)("$file", ({ file, allowed }) => {
  const text = readFileSync(patchPath(file), "utf8");

  it("is accepted by git apply and touches exactly the allow-listed files", () => {
    const stat = numstat(patchPath(file));
    expect(stat.map((s) => s.path).sort()).toEqual([...allowed].sort());
  });

  it("has hunks whose line counts match their headers and git's own count", () => {
    const parsed = parsePatch(text);
    expect(parsed.map((f) => f.path).sort()).toEqual([...allowed].sort());
    const stat = numstat(patchPath(file));
    for (const f of parsed) {
      expect({ path: f.path, added: f.added, deleted: f.deleted }).toEqual(stat.find((s) => s.path === f.path));
    }
  });

  it("would notice a hunk header that disagrees with its lines", () => {
    const broken = text.replace(/^@@ -(\d+),(\d+) \+(\d+),(\d+) @@/m, (_m, a, b, c, d) => `@@ -${a},${b} +${c},${Number(d) + 1} @@`);
    expect(broken).not.toBe(text);
    expect(() => parsePatch(broken)).toThrow(/hunk/);
  });

  // SDK sources only: tests, docs and examples may mention routes in prose
  const sources = () => parsePatch(text).filter((f) => !/test|jest|README|DEVELOPMENT|examples\//.test(f.path));

  it("moves every call off the REST routes that do not exist on the server", () => {
    const parsed = sources();
    const removed = parsed.flatMap((f) => f.deletedLines).filter((l) => l.includes("/api/v1/sandbox/"));
    const added = parsed.flatMap((f) => f.addedLines);
    expect(removed.length).toBeGreaterThan(0);
    expect(added.filter((l) => l.includes("/api/v1/sandbox/"))).toEqual([]);
    expect(added.filter((l) => l.includes("/api/v1/rpc")).length).toBe(removed.length);
  });

  it("adds namespace and sets every config key of the fixture in the patched code", () => {
    const parsed = sources();
    expect(parsed.flatMap((f) => f.addedLines).join("\n")).toMatch(/namespace/);
    const patched = parsed.flatMap((f) => f.newLines).join("\n");
    // image, memory and cpus were already sent before the patch (as dict/object literal keys)
    const added = Object.keys(fixture.body.params.config).filter((k) => !["image", "memory", "cpus"].includes(k));
    expect(added.length).toBeGreaterThan(0);
    for (const key of added) {
      // JS `startConfig.key = …` / Python `config["key"] = …`
      expect(patched, `config key ${key}`).toMatch(new RegExp(`(\\.${key}|\\["${key}"\\]) = `));
    }
  });
});

describe("sandbox.start body", () => {
  it("our RpcBackend sends what the patched SDKs send", async () => {
    const { options } = fixture;
    const sandbox: ResolvedSandboxConfig = {
      name: options.name,
      image: options.image,
      memory: options.memory,
      cpus: options.cpus,
      volumes: options.volumes.map((spec, i) => {
        const v = parseVolumeSpec(spec, i);
        return { host: v.host, guest: v.guest, readonly: v.readonly };
      }),
      ports: options.ports,
      envs: options.envs,
      dependsOn: options.dependsOn,
      workdir: options.workdir,
      shell: options.shell,
      scripts: options.scripts,
    };

    const bodies: unknown[] = [];
    const backend = new RpcBackend({
      url: "http://127.0.0.1:9",
      fetch: async (_url, init) => {
        bodies.push(JSON.parse(String(init?.body)));
        const result = `Sandbox ${options.name} started successfully`;
        return new Response(JSON.stringify({ jsonrpc: "2.0", result, id: "1" }), { status: 200 });
      },
    });
    await backend.start(sandbox);

    expect(bodies).toHaveLength(1);
    const { id, ...body } = bodies[0] as { id: unknown };
    expect(typeof id).toBe("string");
    expect(body).toEqual(fixture.body);
  });
});
