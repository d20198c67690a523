import { mkdir, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { dependencySpec } from "../../../src/client/start-pipeline.js";
import { ErrorCodes } from "../../../src/errors/index.js";
import { tempDir } from "../../helpers/temp-dir.js";

// The embedded backend has no server that remembers a depends_on sandbox, so the pipeline resolves it
// from the same microsandbox.toml with the same checks as create({ name }).
describe("dependencySpec (embedded depends_on)", () => {
  it("resolves a declared dependency from the caller's microsandbox.toml, volumes checked", async () => {
    await using dir = await tempDir("msbv-dep-");
    await mkdir(path.join(dir.path, "db-data"));
    const configPath = path.join(dir.path, "microsandbox.toml");
    await writeFile(
      configPath,
      ["[sandboxes.db]", 'image = "microsandbox/node"', 'volumes = ["./db-data:/data"]', "", "[sandboxes.app]", 'depends_on = ["db"]', ""].join("\n"),
    );
    const spec = await dependencySpec({ kind: "python", options: { configPath }, cwd: dir.path, env: {} }, "db");
    expect(spec).toMatchObject({
      name: "db",
      image: "microsandbox/node",
      volumes: [{ host: path.join(dir.path, "db-data"), guest: "/data", readonly: false }],
    });
  });

  it("an undeclared dependency is a typed config error (the file is refused), never a default sandbox", async () => {
    await using dir = await tempDir("msbv-dep-");
    const configPath = path.join(dir.path, "microsandbox.toml");
    await writeFile(configPath, '[sandboxes.app]\ndepends_on = ["ghost"]\n');
    const error = await dependencySpec({ kind: "python", options: { configPath }, cwd: dir.path, env: {} }, "ghost").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCodes.CONFIG_INVALID });
    expect((error as Error).message).toContain("ghost");
  });
});
