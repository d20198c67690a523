import { mkdir, realpath } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { isIP } from "node:net";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { DevServerError } from "../errors/errors.js";
import { redactSecrets } from "../errors/redact.js";
import { authenticate } from "./auth/auth.js";
import { createDefaultRuntime } from "./default-runtime.js";
import { createRequestListener } from "./protocol/http-server.js";
import { isLoopback, normaliseOrigin } from "./protocol/request-origin.js";
import { dispatchMcp } from "./protocol/mcp.js";
import type { MethodContext } from "./methods/index.js";
import type { ReceivedLog, ReceivedRequest } from "./state/received-log.js";
import { dispatchRpc } from "./protocol/rpc-dispatch.js";
import { handleSyncFile } from "./protocol/sync-file-route.js";
import { isValidPoolSize, MAX_POOL_SIZE } from "./runtime/pool/warm-pool.js";
import type { SandboxRuntime } from "./runtime/types.js";
import { Sandboxfile } from "./state/sandboxfile.js";
import { readOrCreateServerKey, serverKeyPath } from "./auth/server-key.js";
import { realpathLongestPrefix } from "../volumes/canonicalize.js";

export interface DevServerOptions {
  /** Interface to listen on. Default `127.0.0.1`. Non-loopback hosts require auth (dev: false). */
  host?: string;
  /** Default 5555 (the legacy port); 0 picks a free port (see `url`). */
  port?: number;
  /** Folder holding the Sandboxfile and `.menv` state. Default `$MICROSANDBOX_HOME/projects`. */
  projectDir?: string;
  /** No authentication at all (legacy `--dev`). Default false. */
  dev?: boolean;
  /**
   * Sandboxes share the host's network (interfaces, DNS, the host's loopback services). Default
   * false: no network. Refused together with `dev`: sandboxed code could then call this server
   * without a key and start sandboxes that mount any host folder. See docs/dev-server.md.
   */
  allowNetwork?: boolean;
  /** JWT signing secret. Without it (and without dev) `<home>/server.key` is read or created. */
  key?: string;
  /** Microsandbox home. Default `$MICROSANDBOX_HOME`, else `~/.microsandbox`. */
  home?: string;
  /** Default: the bubblewrap runtime with state in `<projectDir>/.menv`. */
  runtime?: SandboxRuntime;
  /**
   * Browser origins (e.g. `http://localhost:3000`) allowed to call the API. Default none: any request
   * with an `Origin` header is refused, so a web page cannot drive the server.
   */
  allowOrigins?: readonly string[];
  /**
   * Host folders sandboxes may mount (volumes anywhere else are refused with 400). Default: the
   * project dir and the folder the server was started from (`process.cwd()`), unless that folder is
   * `/` or the home folder itself, which would open everything below. System folders, the home folder
   * itself, credential folders and the server's own state stay refused inside these roots too
   * (src/volumes/host-policy.ts). Explicit roots replace the default.
   */
  allowRoots?: string[];
  /**
   * Offer sync mode's raw file channel (`syncChannel` in `msbv.capabilities`, docs/protocol.md#dev-sync-channel). Default
   * true; false makes sync clients use `sandbox.command.run`, as against a legacy server.
   */
  syncFileChannel?: boolean;
  /**
   * Pre-started sandboxes kept per (image, memory) once that kind was asked for, so a create for a
   * new name only mounts its volumes (docs/dev-server.md#pool). Default 2; 0 turns the pool off.
   * Only with the server as root (as an ordinary user every start is cold).
   */
  poolSize?: number;
  /** Receives one line per request and the real cause of every failure. Default: stderr. */
  logger?: (line: string) => void;
}

export interface DevServerHandle {
  /** e.g. `http://127.0.0.1:5555` (the actual port when 0 was asked for). */
  url: string;
  /** Canonical project dir. */
  projectDir: string;
  /** Every `sandbox.start` as received (also served at `GET /_dev/received`). */
  received: ReceivedRequest[];
  /** Stops every sandbox and closes the server. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts the dev server: the legacy microsandbox HTTP + JSON-RPC API (docs/protocol.md) backed by a
 * sandbox runtime. Installs no signal handlers — the caller (CLI) decides when to `close()`.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServerHandle> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 5555;
  const dev = options.dev ?? false;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new DevServerError(`Invalid port ${port}`, { hint: "Use an integer from 0 to 65535 (0 = any free port)." });
  }
  if (dev && !isLoopback(host)) {
    throw new DevServerError(`Refusing to listen on ${host} without authentication (dev mode)`, {
      hint: "Listen on 127.0.0.1, or turn dev mode off so API keys are required.",
    });
  }
  if (dev && options.allowNetwork) {
    throw new DevServerError(
      "Refusing --allow-network together with --dev: a sandbox on the host network could call this unauthenticated server and start sandboxes that mount any host folder.",
      {
        hint: "drop --dev (clients then need an API key: `msbv keygen`), or drop --allow-network",
      },
    );
  }
  if (options.poolSize !== undefined && !isValidPoolSize(options.poolSize)) {
    throw new DevServerError(`Invalid pool size ${String(options.poolSize)}: expected a whole number from 0 to ${MAX_POOL_SIZE}.`, {
      hint: "pass poolSize (--pool-size) between 0 (no pre-started sandboxes) and 256",
    });
  }
  if (!dev && options.key === "") {
    throw new DevServerError("The server key is empty", { hint: "Pass a non-empty key, or omit it to use server.key." });
  }
  const allowedOrigins = new Set<string>();
  for (const value of options.allowOrigins ?? []) {
    const origin = normaliseOrigin(value);
    if (origin === undefined) {
      throw new DevServerError(`Invalid allowed origin ${JSON.stringify(value)}`, {
        hint: "Give an http(s) origin such as http://localhost:3000 (scheme, host and port only).",
      });
    }
    allowedOrigins.add(origin);
  }
  const home = resolve(options.home ?? process.env.MICROSANDBOX_HOME ?? join(homedir(), ".microsandbox"));
  const projectDir = await prepareProjectDir(resolve(options.projectDir ?? join(home, "projects")));
  const secretText = dev ? undefined : (options.key ?? (await readOrCreateServerKey(home)));
  const secret = secretText === undefined ? undefined : new TextEncoder().encode(secretText);
  const rawLog = options.logger ?? ((line: string) => process.stderr.write(`${line}\n`));
  const log = (line: string) => rawLog(redactSecrets(line, secretText === undefined ? [] : [secretText]));

  const stateDir = join(projectDir, ".menv");
  const runtime =
    options.runtime ??
    createDefaultRuntime(stateDir, {
      allowNetwork: options.allowNetwork === true,
      ...(options.poolSize !== undefined ? { poolSize: options.poolSize } : {}),
      log,
    });
  const sandboxfile = new Sandboxfile(projectDir);
  const received: ReceivedLog = [];
  const ctx: MethodContext = {
    runtime,
    sandboxfile,
    received,
    log,
    syncFileChannel: options.syncFileChannel ?? true,
    state: {
      projectDir,
      protectedPaths: [stateDir, sandboxfile.path, await realpathLongestPrefix(serverKeyPath(home))],
      allowedRoots: await canonicalRoots(options.allowRoots ?? defaultRoots(projectDir, log)),
    },
  };

  const server = createServer(
    { keepAlive: true },
    createRequestListener({
      authenticate: async (req) => (secret === undefined ? undefined : authenticate(req.headers, secret)),
      rpc: (body, hungUp) => dispatchRpc(body, ctx, hungUp),
      ...(options.allowNetwork ? { network: "host" as const } : {}),
      mcp: (body) => dispatchMcp(body, ctx),
      received: () => ({ status: 200, body: { received } }),
      pool: () => ({ status: 200, body: { size: runtime.pool?.size ?? 0, ready: runtime.pool?.ready ?? 0, wanted: runtime.pool?.wanted ?? 0 } }),
      syncFile: (req, res) => handleSyncFile(req, res, ctx.syncFileChannel === false ? {} : runtime),
      log,
      originPolicy: { port: () => actualPort, loopbackHostOnly: isLoopback(host), allowedOrigins },
    }),
  );
  server.on("request", (req, res) => res.on("finish", () => log(`${req.method} ${req.url} -> ${res.statusCode}`)));
  let actualPort = port;
  try {
    actualPort = await listen(server, host, port);
  } catch (err) {
    // Nothing was started yet, but a runtime we created may hold resources; release it.
    if (options.runtime === undefined) await runtime.shutdown().catch(() => undefined);
    throw err;
  }
  log(
    `dev server listening on ${host}:${actualPort} (${dev ? "dev mode, no auth" : "API key required"}, sandbox network: ${options.allowNetwork ? "host (--allow-network)" : "none"}, pool: ${runtime.pool?.size ? `${runtime.pool.size} per image` : "off"}), project ${projectDir}`,
  );

  let closing: Promise<void> | undefined;
  const close = () => (closing ??= shutdown(server, runtime, log));
  return {
    url: `http://${isIP(host) === 6 ? `[${host}]` : host}:${actualPort}`,
    projectDir,
    received,
    close,
    [Symbol.asyncDispose]: close,
  };
}

export { isLoopback };

/**
 * Users start `msbv dev-server` in their project and mount its folders, as they did with the legacy
 * server (which had no roots at all); a start folder of `/` or the home folder is too wide to be a
 * default, so there only the project dir is allowed and the log says how to widen it.
 */
function defaultRoots(projectDir: string, log: (line: string) => void): string[] {
  const cwd = resolve(process.cwd());
  if (cwd === "/" || cwd === resolve(homedir())) {
    log(`volumes are allowed under ${projectDir} only (started from ${cwd}, too wide a default); pass --allow-root DIR to allow more`);
    return [projectDir];
  }
  return [projectDir, cwd];
}

async function canonicalRoots(roots: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const root of roots) {
    if (root === "") throw new DevServerError("An allowed root is empty", { hint: "Pass an existing folder to --allow-root." });
    out.push(await realpathLongestPrefix(resolve(root)));
  }
  return out;
}

async function prepareProjectDir(dir: string): Promise<string> {
  try {
    await mkdir(dir, { recursive: true });
    return await realpath(dir);
  } catch (err) {
    throw new DevServerError(`Could not create the project directory ${dir}`, {
      cause: err,
      hint: "Pass a writable projectDir or set MICROSANDBOX_HOME.",
    });
  }
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      const inUse = err.code === "EADDRINUSE";
      reject(
        new DevServerError(`Could not listen on ${host}:${port}: ${err.message}`, {
          cause: err,
          hint: inUse ? "Stop the other server on that port or pass another port (0 = any free port)." : "Check the host address.",
        }),
      );
    });
    server.listen(port, host, () => {
      const address = server.address();
      resolvePort(typeof address === "object" && address !== null ? address.port : port);
    });
  });
}

async function shutdown(server: Server, runtime: SandboxRuntime, log: (line: string) => void): Promise<void> {
  const closed = new Promise<void>((done) => server.close(() => done()));
  server.closeIdleConnections();
  try {
    await runtime.shutdown();
  } catch (err) {
    log(`stopping sandboxes failed: ${err instanceof Error ? err.message : String(err)}`);
    throw new DevServerError("Could not stop every sandbox while closing the dev server", {
      cause: err,
      hint: "Check for leftover sandbox processes (e.g. `ps -ef | grep bwrap`).",
    });
  } finally {
    // In-flight requests (a long REPL run) must not keep the process alive after close().
    server.closeAllConnections();
    await closed;
  }
  log("dev server closed");
}
