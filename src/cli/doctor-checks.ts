import { spawn } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { embeddedReadiness } from "../backend/embedded/readiness.js";
import { isLocalServerUrl } from "../backend/local-url.js";
import { resolveSandbox } from "../config/index.js";
import type { LoadedConfig } from "../config/types.js";
import { ErrorCodes, MsbvError, ServerError } from "../errors/index.js";
import { detectLimitMechanism } from "../server/runtime/containment/limits.js";
import { serverIsRoot } from "../server/runtime/containment/sandbox-identity.js";
import { findBwrap } from "../server/runtime/find-bwrap.js";
import { withoutHint } from "./format-error.js";
import { backendFor, type ServerTarget } from "./server-target.js";
import { kindOfImage } from "./target.js";

/** One line of `msbv doctor`. `info` never fails the run; a failed `required` check exits 1. */
export interface DoctorCheck {
  id: string;
  status: "ok" | "fail" | "info";
  required: boolean;
  detail: string;
  /** What to do about a failure. */
  fix?: string;
}

const HEALTH_TIMEOUT_MS = 3_000;

const ok = (id: string, detail: string, required = true): DoctorCheck => ({ id, status: "ok", required, detail });
const fail = (id: string, detail: string, fix: string, required = true): DoctorCheck => ({
  id,
  status: "fail",
  required,
  detail,
  fix,
});

/** Node >= 22 (the package's engines field). */
export function checkNode(version: string = process.versions.node): DoctorCheck {
  const major = Number(version.split(".")[0]);
  return major >= 22
    ? ok("node", `Node ${version}`)
    : fail("node", `Node ${version} is older than 22`, "install Node 22 or newer (e.g. from nodejs.org or nvm)");
}

/** GET {url}/api/v1/health answers 200. */
export async function checkServer(server: ServerTarget): Promise<DoctorCheck> {
  const url = `${server.url.replace(/\/+$/, "")}/api/v1/health`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    const body = await res.text().catch(() => "");
    if (res.ok) return ok("server", `${url} answered ${res.status}; sandbox network: ${sandboxNetwork(body)}`);
    return fail("server", `${url} answered HTTP ${res.status}`, "check that the URL points at a microsandbox server");
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    return fail(
      "server",
      `${url} is not reachable (${cause})`,
      "start one with `msbv dev-server` (or `msb server start`), or pass --server / set MSB_SERVER_URL",
    );
  }
}

/** One authenticated call (sandbox.metrics) proves the key, or that none is needed. */
export async function checkAuth(server: ServerTarget): Promise<DoctorCheck> {
  try {
    await backendFor(server).metrics(undefined, { timeoutMs: HEALTH_TIMEOUT_MS });
    return ok("auth", server.apiKey ? `the key from ${server.apiKeySource} is accepted` : "the server needs no key (dev mode)");
  } catch (err) {
    if (err instanceof MsbvError && err.code === ErrorCodes.AUTH_FAILED) {
      return fail(
        "auth",
        server.apiKey ? `the key from ${server.apiKeySource} is rejected` : "the server requires an API key and none is set",
        "mint one with `msbv keygen` and export it as MSB_API_KEY",
      );
    }
    // Any other HTTP answer means the request got past authentication (a fresh legacy server
    // answers metrics with 500 until its first sandbox was started).
    if (err instanceof ServerError && err.status !== undefined) {
      return ok("auth", `${server.apiKey ? `the key from ${server.apiKeySource}` : "no key"} passed authentication (HTTP ${err.status})`);
    }
    const message = err instanceof MsbvError ? (err.message.split("\n")[0] ?? "") : String(err);
    return fail("auth", `an authenticated call failed: ${message}`, "see the server check above and the server's log");
  }
}

/** bubblewrap is installed and can create namespaces here (needed by the local dev server). */
export async function checkBwrap(required: boolean): Promise<DoctorCheck[]> {
  const bwrap = await findBwrap();
  if (!bwrap) {
    return [fail("bwrap", "bubblewrap (bwrap) is not installed", "install it: `apt-get install bubblewrap` (or your distro's package)", required)];
  }
  const run = await runQuiet(bwrap, ["--ro-bind", "/", "/", "--unshare-all", "true"]);
  const works =
    run.code === 0
      ? ok("bwrap-runs", "`bwrap --ro-bind / / --unshare-all true` succeeded", required)
      : fail(
          "bwrap-runs",
          `bwrap failed (exit ${run.code ?? "none"}): ${run.stderr.trim() || "no output"}`,
          "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 / " +
            "kernel.apparmor_restrict_unprivileged_userns=0) or run the dev server in a VM/container that permits them",
          required,
        );
  return [ok("bwrap", bwrap, required), works];
}

/** /dev/kvm: informational only; the dev server does not need it, real microVMs do. */
export async function checkKvm(): Promise<DoctorCheck> {
  try {
    await access("/dev/kvm", constants.R_OK | constants.W_OK);
    return { id: "kvm", status: "info", required: false, detail: "/dev/kvm is present (real microVMs may work)" };
  } catch {
    return {
      id: "kvm",
      status: "info",
      required: false,
      detail: "/dev/kvm is not available: real microVMs (msb) need hardware virtualisation; the dev server does not",
    };
  }
}

/**
 * How a dev server started by this user now would contain sandboxes: which host uid and which
 * per-sandbox limits (src/server/runtime/containment/). Informational: it depends on who runs the server.
 */
export async function checkContainment(): Promise<DoctorCheck> {
  const root = serverIsRoot();
  const limits = await detectLimitMechanism(root);
  const uid = root ? "a dedicated unprivileged uid per sandbox (idmapped volumes)" : "this user's uid (uid 0 inside)";
  return { id: "containment", status: "info", required: false, detail: `sandboxes run as ${uid}; limits: ${limits.detail}; cpus is not enforced` };
}

/**
 * The embedded backend (real microVMs through npm `microsandbox` 0.6): the addon loads and a VM can
 * boot. Required only when microsandbox.toml selects it; otherwise a failure is a warning.
 */
export async function checkEmbedded(config: LoadedConfig | undefined): Promise<DoctorCheck> {
  const required = config !== undefined && usesEmbedded(config);
  const readiness = await embeddedReadiness();
  const detail = `addon: ${readiness.addon.ok ? "loads" : readiness.addon.detail}; KVM: ${readiness.kvm.detail}`;
  if (readiness.ok) return ok("embedded", detail, required);
  return fail(
    "embedded",
    detail,
    readiness.addon.ok
      ? "real microVMs need usable KVM (Linux with /dev/kvm, or macOS arm64); without it use the dev server: `msbv dev-server`"
      : "reinstall without --omit=optional on linux-x64/arm64 or macOS arm64, or use the dev server: `msbv dev-server`",
    required,
  );
}

function usesEmbedded(config: LoadedConfig): boolean {
  return [config.server.backend, config.defaults.backend, ...Object.values(config.sandboxes).map((s) => s.backend)].includes("embedded");
}

/** Every declared sandbox resolves: volumes parse, host paths exist and pass the policy. */
export async function checkDeclared(config: LoadedConfig): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  for (const [name, entry] of Object.entries(config.sandboxes)) {
    try {
      const { sandbox } = await resolveSandbox({
        kind: kindOfImage(entry.image ?? config.defaults.image ?? ""),
        options: { name, configPath: config.path },
        // Read-only support is the server's to say, at start (msbv.capabilities); not judged offline.
        readonlySupported: true,
        // doctor only looks: a `create = true` folder is reported as "will be created", never made.
        dryRun: true,
      });
      const mounts = sandbox.volumes.map((v) => `${v.host} -> ${v.guest}`).join(", ") || "no volumes";
      checks.push(ok(`sandbox:${name}`, mounts));
    } catch (err) {
      if (!(err instanceof MsbvError)) throw err;
      checks.push(fail(`sandbox:${name}`, withoutHint(err), err.hint ?? `fix [sandboxes.${name}] in ${config.path}`));
    }
  }
  return checks;
}

/** Whether the server is on this machine (then the dev server's requirements apply). */
export function serverIsLocal(server: ServerTarget): boolean {
  return isLocalServerUrl(server.url);
}

function runQuiet(cmd: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", (err) => resolve({ code: null, stderr: err.message }));
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

/** What the health body says about the sandboxes' network: the dev server adds `network: "host"` with --allow-network. */
export function sandboxNetwork(healthBody: string): string {
  try {
    const json = JSON.parse(healthBody) as { network?: unknown };
    if (json.network === "host") return "host (--allow-network: sandboxes reach the host's network and loopback services)";
  } catch {
    // not JSON: a legacy or foreign server
  }
  return "none announced (the dev server's default: no network)";
}
