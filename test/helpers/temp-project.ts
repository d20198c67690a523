import { mkdir, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterEach } from "vitest";
import { type TempDir, tempDir } from "./temp-dir.js";

const created: TempDir[] = [];

// Every temp project of a test file is removed after each test, pass or fail.
afterEach(async () => {
  await Promise.all(created.splice(0).map((dir) => dir.remove()));
});

/** A temp folder (canonical path) that removes itself; files are written relative to it. */
export interface TempProject extends AsyncDisposable {
  dir: string;
  write(rel: string, content: string): Promise<string>;
  mkdir(rel: string): Promise<string>;
}

export async function tempProject(prefix = "msbv-config-"): Promise<TempProject> {
  const temp = await tempDir(prefix);
  created.push(temp);
  const dir = temp.path;
  return {
    dir,
    async write(rel, content) {
      const file = path.join(dir, rel);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, content);
      return file;
    },
    async mkdir(rel) {
      const p = path.join(dir, rel);
      await mkdir(p, { recursive: true });
      return p;
    },
    [Symbol.asyncDispose]: temp.remove,
  };
}
