import type { Command } from "commander";
import { InvalidArgumentError, Option } from "commander";
import { startDevServer } from "../../server/index.js";
import { isValidPoolSize, MAX_POOL_SIZE } from "../../server/runtime/pool/warm-pool.js";
import type { CliContext } from "../context.js";
import { note, printLine } from "../output.js";
import { rejectTail } from "./tail.js";

interface DevServerFlags {
  host: string;
  port: number;
  projectDir?: string;
  path?: string;
  dev?: boolean;
  key?: string;
  allowNetwork?: boolean;
  allowOrigin?: string[];
  allowRoot: string[];
  poolSize?: number;
}

/**
 * `msbv dev-server`: the local bubblewrap server speaking the legacy JSON-RPC API. Its URL is the
 * first line on stdout (the real port when `--port 0`); logs go to stderr. SIGINT/SIGTERM close it,
 * which stops every sandbox, then the process exits 0.
 */
export function registerDevServer(program: Command, ctx: CliContext): void {
  program
    .command("dev-server")
    .description("run the local dev server (legacy microsandbox API, sandboxes via bubblewrap)")
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("-p, --port <port>", "port (0 = any free port; the URL is printed on stdout)", parsePort, 5555)
    // Two options: commander names a "--a, --b" option after its LAST long flag, which once stored
    // --project-dir as `path` and silently ignored it (test/e2e/cli/cli-dev-server.test.ts).
    .option("--project-dir <dir>", "folder for the Sandboxfile and sandbox state (default ~/.microsandbox/projects)")
    .addOption(new Option("--path <dir>", "alias of --project-dir (legacy msb spelling)").hideHelp())
    .option("--dev", "no authentication (loopback only), like `msb server start --dev`")
    .option("--allow-origin <url>", "let browser pages from this origin call the API (repeatable; default: none)", collect, [])
    .option("--key <secret>", "JWT signing secret (default: $MICROSANDBOX_HOME/server.key, created if missing)")
    .option(
      "--allow-root <dir>",
      "a host folder sandboxes may mount from (repeatable; default: the project dir and the current folder unless it is / or your home)",
      (dir: string, previous: string[]) => [...previous, dir],
      [] as string[],
    )
    .option("--allow-network", "sandboxes share the host network (default: none); not with --dev, see docs/dev-server.md")
    .option("--pool-size <n>", "pre-started sandboxes kept per image (default 2, 0 = off; server as root only)", parsePoolSize)
    .action(async (flags: DevServerFlags) => {
      rejectTail(ctx, "dev-server");
      const projectDir = flags.projectDir ?? flags.path;
      const server = await startDevServer({
        host: flags.host,
        port: flags.port,
        ...(projectDir !== undefined ? { projectDir } : {}),
        ...(flags.dev ? { dev: true } : {}),
        ...(flags.key !== undefined ? { key: flags.key } : {}),
        ...(flags.allowOrigin !== undefined && flags.allowOrigin.length > 0 ? { allowOrigins: flags.allowOrigin } : {}),
        ...(flags.allowRoot.length > 0 ? { allowRoots: flags.allowRoot } : {}),
        ...(flags.allowNetwork ? { allowNetwork: true } : {}),
        ...(flags.poolSize !== undefined ? { poolSize: flags.poolSize } : {}),
      });
      printLine(server.url);
      const signal = await untilSignal();
      note(`${signal}: stopping every sandbox and closing the dev server`);
      await server.close();
    });
}

/**
 * Resolves with the first SIGINT/SIGTERM (then the caller closes gracefully). A second signal while
 * closing exits at once with 130: the sandboxes die with us (bubblewrap --die-with-parent).
 */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (received) {
        note(`${signal} again: exiting without waiting for the sandboxes to stop`);
        process.exit(130);
      }
      received = true;
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) {
    throw new InvalidArgumentError(`expected a port from 0 to 65535, got "${value}"`);
  }
  return port;
}

function parsePoolSize(value: string): number {
  const size = Number(value);
  if (!/^\d+$/.test(value) || !isValidPoolSize(size)) {
    throw new InvalidArgumentError(`expected a pool size from 0 to ${MAX_POOL_SIZE}, got "${value}"`);
  }
  return size;
}
