import { mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";

/** A fresh folder under the OS temp dir, removed with everything in it on dispose. */
export interface TempDir extends AsyncDisposable {
  /** Real path (symlinks resolved), so tests can compare it with paths the code canonicalised. */
  readonly path: string;
  /** Same as disposing; for hooks (`afterEach`) that cannot use `await using`. */
  remove(): Promise<void>;
}

/** `await using dir = await tempDir("msbv-x-")`; the prefix names the test in leftover listings. */
export async function tempDir(prefix = "msbv-test-"): Promise<TempDir> {
  const dir = await realpath(await mkdtemp(path.join(tmpdir(), prefix)));
  const remove = () => rm(dir, { recursive: true, force: true, maxRetries: 3 });
  return { path: dir, remove, [Symbol.asyncDispose]: remove };
}
