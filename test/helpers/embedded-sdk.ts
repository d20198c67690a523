import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import * as path from "node:path";
import * as tar from "tar";
import { expect } from "vitest";
import { loadEmbeddedSdk } from "../../src/backend/embedded/sdk.js";
import type { EmbeddedSdk } from "../../src/backend/embedded/sdk.js";

/**
 * The real embedded SDK, or undefined where its native addon cannot load. On linux-x64 (this CI)
 * it must load: the tests then really run against it instead of skipping quietly.
 */
export async function sdkOrSkip(): Promise<EmbeddedSdk | undefined> {
  try {
    return await loadEmbeddedSdk();
  } catch (err) {
    if (process.platform === "linux" && process.arch === "x64") {
      expect.fail(`the embedded addon must load on linux-x64 CI: ${err instanceof Error ? err.message : String(err)}`);
    }
    return undefined;
  }
}

/**
 * Writes a `docker save` archive of a one-file image (no registry needed: Docker Hub is
 * unreachable in CI) and returns its path.
 */
export async function tinyImageArchive(dir: string, reference: string): Promise<string> {
  const work = await mkdtemp(path.join(dir, "img-"));
  const root = path.join(work, "root");
  await mkdir(path.join(root, "bin"), { recursive: true });
  await writeFile(path.join(root, "bin", "hello"), "#!/bin/sh\necho hello\n", { mode: 0o755 });
  const layerPath = path.join(work, "layer.tar");
  await tar.c({ file: layerPath, cwd: root, portable: true }, ["bin"]);
  const layer = await readFile(layerPath);
  const diffId = `sha256:${createHash("sha256").update(layer).digest("hex")}`;
  const config = JSON.stringify({
    architecture: "amd64",
    os: "linux",
    config: { Cmd: ["/bin/hello"] },
    rootfs: { type: "layers", diff_ids: [diffId] },
    history: [],
  });
  const configName = `${createHash("sha256").update(config).digest("hex")}.json`;
  const out = path.join(work, "out");
  await mkdir(path.join(out, "l1"), { recursive: true });
  await writeFile(path.join(out, "l1", "layer.tar"), layer);
  await writeFile(path.join(out, configName), config);
  await writeFile(path.join(out, "manifest.json"), JSON.stringify([{ Config: configName, RepoTags: [reference], Layers: ["l1/layer.tar"] }]));
  const archive = path.join(work, "image.tar");
  await tar.c({ file: archive, cwd: out }, ["manifest.json", configName, "l1"]);
  return archive;
}
