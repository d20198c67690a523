import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startDevServer } from "../../src/server/index.js";
import { tempDir } from "./temp-dir.js";

/** A real dev server (bubblewrap) on a free loopback port, plus a temp project with its own config. */
export interface DevServerFixture extends AsyncDisposable {
  /** Temp project dir (holds microsandbox.toml, `ws/`, `.microsandbox/generated`). */
  dir: string;
  configPath: string;
  url: string;
  /** Live log of every `sandbox.start` the server received. */
  received: { sandbox: unknown; config: unknown }[];
  /** Server log lines (kept quiet, shown on failure by the tests that care). */
  logs: string[];
  generatedFiles(): Promise<string[]>;
  close(): Promise<void>;
}

export async function startFixture(configToml = "# test project\n"): Promise<DevServerFixture> {
  const temp = await tempDir("msbv-client-e2e-");
  const dir = temp.path;
  const configPath = join(dir, "microsandbox.toml");
  await writeFile(configPath, configToml);
  await mkdir(join(dir, "ws"));
  const logs: string[] = [];
  let server: Awaited<ReturnType<typeof startDevServer>>;
  try {
    server = await startDevServer({
      port: 0,
      dev: true,
      // Outside the project so the server's state never sits inside a mounted folder.
      projectDir: join(dir, "..", `${dir.split("/").pop()}-server`),
      // The client project is where volumes come from; the server refuses host paths anywhere else.
      allowRoots: [dir],
      logger: (line) => logs.push(line),
    });
  } catch (err) {
    await temp.remove();
    throw err;
  }
  const close = async () => {
    try {
      await server.close();
    } finally {
      await temp.remove();
      await rm(server.projectDir, { recursive: true, force: true });
    }
  };
  return {
    dir,
    configPath,
    url: server.url,
    received: server.received,
    logs,
    generatedFiles: () => readdir(join(dir, ".microsandbox", "generated")).catch(() => []),
    close,
    [Symbol.asyncDispose]: close,
  };
}
