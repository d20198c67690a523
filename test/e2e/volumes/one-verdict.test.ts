import { mkdir, symlink, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes, isMsbvError, PythonSandbox } from "../../../src/index.js";
import { errorText, rawRpc, rawStart } from "../../helpers/raw-rpc.js";
import { cliEnv, requireBuiltCli, runCli } from "../../helpers/cli-harness.js";
import { startSafetyServer, type SafetyServer } from "../../helpers/safety-fixture.js";

// ONE corpus of volume specs through ALL routes: `create()`, microsandbox.toml + `msbv config`,
// raw JSON-RPC `sandbox.start` and MCP `sandbox_start`. Every route must give the same verdict:
// accept, or refuse with the same rule's own words (one definition in src/volumes) and the same
// reason code. Host paths are absolute so that every route resolves them the same way; the server's
// allowed root is the client's project folder, which is also the client's policy root.

type Verdict = { accept: true } | { accept: false; code: string; reason: string };

interface Entry {
  label: string;
  volumes: (p: Paths) => string[];
  verdict: Verdict;
}

interface Paths {
  ws: string;
  skills: string;
  link: string;
  planted: string;
  outside: string;
  missingOutside: string;
}

const refuse = (code: string, reason: string): Verdict => ({ accept: false, code, reason });
const INVALID = ErrorCodes.INVALID_VOLUME;
const DENIED = ErrorCodes.HOST_PATH_DENIED;

const CORPUS: Entry[] = [
  { label: "plain host:guest", volumes: (p) => [`${p.ws}:/workspace`], verdict: { accept: true } },
  { label: "nesting (allowed, host folders siblings)", volumes: (p) => [`${p.skills}:/w/skills`, `${p.ws}:/w`], verdict: { accept: true } },
  { label: "relative guest", volumes: (p) => [`${p.ws}:workspace`], verdict: refuse(INVALID, "guest mount path must be absolute") },
  { label: "'..' in the guest", volumes: (p) => [`${p.ws}:/a/../etc`], verdict: refuse(INVALID, "must not contain '..'") },
  { label: "guest /", volumes: (p) => [`${p.ws}:/`], verdict: refuse(INVALID, "cannot mount a volume at guest root /") },
  { label: "reserved guest /sys", volumes: (p) => [`${p.ws}:/sys`], verdict: refuse(INVALID, "reserved system folder /sys") },
  { label: "reserved guest /proc/x", volumes: (p) => [`${p.ws}:/proc/x`], verdict: refuse(INVALID, "reserved system folder /proc") },
  { label: "reserved guest /tmp", volumes: (p) => [`${p.ws}:/tmp`], verdict: refuse(INVALID, "/tmp is the sandbox's private tmpfs") },
  { label: "reserved guest /etc", volumes: (p) => [`${p.ws}:/etc`], verdict: refuse(INVALID, "reserved system folder /etc") },
  { label: "duplicate guests", volumes: (p) => [`${p.ws}:/d`, `${p.skills}:/d/`], verdict: refuse(INVALID, "duplicate guest path /d") },
  { label: "NUL in the guest", volumes: (p) => [`${p.ws}:/a\u0000b`], verdict: refuse(INVALID, "the guest path contains a NUL") },
  { label: "':' inside a path", volumes: (p) => [`${p.ws}:/work:space`], verdict: refuse(INVALID, "has a second ':'") },
  { label: "host:guest:ro", volumes: (p) => [`${p.ws}:/workspace:ro`], verdict: refuse(INVALID, "no options segment") },
  { label: "system host path /etc", volumes: () => ["/etc:/hostetc"], verdict: refuse(DENIED, "is refused: it is a system folder (/etc)") },
  { label: "symlinked host path", volumes: (p) => [`${p.link}:/l`], verdict: refuse(DENIED, "is a symlink") },
  { label: "path through a planted symlink", volumes: (p) => [`${p.planted}/sub:/p`], verdict: refuse(DENIED, "goes through the symlink") },
  { label: "outside-root host path (exists)", volumes: (p) => [`${p.outside}:/o`], verdict: refuse(DENIED, "is outside the allowed roots") },
  { label: "outside-root host path (missing)", volumes: (p) => [`${p.missingOutside}:/o`], verdict: refuse(DENIED, "is outside the allowed roots") },
];

/** What one route said: accepted, or the reason code and text it gave. */
type Outcome = { accept: true } | { accept: false; code: string; text: string };

let s: SafetyServer;
let paths: Paths;
beforeAll(async () => {
  requireBuiltCli();
  s = await startSafetyServer();
  paths = {
    ws: path.join(s.project, "ws"),
    skills: path.join(s.project, "skills"),
    link: path.join(s.project, "ws-link"),
    planted: path.join(s.project, "ws", "planted"),
    outside: path.join(s.root, "outside"),
    missingOutside: path.join(s.root, "missing-outside"),
  };
  await mkdir(paths.skills);
  await mkdir(paths.outside);
  await symlink(paths.ws, paths.link);
  await symlink("/etc", paths.planted); // as a sandbox with ws mounted could have done
});
afterAll(async () => {
  await s?.close();
});

const CODE_IN_TEXT = /\((MSBV_[A-Z_]+)\)/;

async function viaCreate(name: string, volumes: string[]): Promise<Outcome> {
  try {
    const sb = await PythonSandbox.create({ serverUrl: s.url, configPath: s.configPath, name, volumes });
    await sb.stop();
    return { accept: true };
  } catch (e) {
    if (!isMsbvError(e)) throw e;
    return { accept: false, code: e.code, text: e.message };
  }
}

async function viaConfigFile(name: string, volumes: string[]): Promise<Outcome> {
  // microsandbox.toml in the project folder (so the project is the policy root), read by `msbv config`.
  const file = path.join(s.project, `${name}.toml`);
  await writeFile(file, `[sandboxes.${name}]\nvolumes = [${volumes.map((v) => JSON.stringify(v)).join(", ")}]\n`);
  const r = await runCli(["config", name], { cwd: s.project, env: cliEnv(path.join(s.root, "cli-home"), { MSB_CONFIG: file }) });
  if (r.code === 0) return { accept: true };
  const code = /error\[(MSBV_[A-Z_]+)\]/.exec(r.stderr)?.[1] ?? `exit ${r.code}`;
  // The file's own checks report spec problems as located config issues: the class is "bad spec".
  return { accept: false, code: code === ErrorCodes.CONFIG_INVALID ? INVALID : code, text: r.stderr };
}

async function viaRawRpc(name: string, volumes: string[]): Promise<Outcome> {
  const reply = await rawStart(s.url, name, { volumes });
  if (reply.status === 200) {
    await rawRpc(s.url, "sandbox.stop", { sandbox: name });
    return { accept: true };
  }
  const text = errorText(reply);
  return { accept: false, code: CODE_IN_TEXT.exec(text)?.[1] ?? `status ${reply.status}`, text };
}

async function viaMcp(name: string, volumes: string[]): Promise<Outcome> {
  const res = await fetch(`${s.url}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "sandbox_start", arguments: { sandbox: name, config: { image: "microsandbox/python", volumes } } },
    }),
  });
  const body = (await res.json()) as { result: { isError?: boolean; content: { text: string }[] } };
  if (!body.result.isError) {
    await rawRpc(s.url, "sandbox.stop", { sandbox: name });
    return { accept: true };
  }
  const text = body.result.content.map((c) => c.text).join("\n");
  return { accept: false, code: CODE_IN_TEXT.exec(text)?.[1] ?? "no code", text };
}

const ROUTES = { create: viaCreate, "microsandbox.toml + msbv config": viaConfigFile, "raw JSON-RPC": viaRawRpc, "MCP sandbox_start": viaMcp };

describe("one verdict per volume spec, whatever the route", () => {
  CORPUS.forEach((entry, i) => {
    it(`${entry.label} → ${entry.verdict.accept ? "accepted" : `${entry.verdict.code}: ${entry.verdict.reason}`}`, async () => {
      const volumes = entry.volumes(paths);
      const outcomes: Record<string, Outcome> = {};
      for (const [route, run] of Object.entries(ROUTES)) outcomes[route] = await run(`v${i}-${route.length}`, volumes);
      for (const [route, outcome] of Object.entries(outcomes)) {
        const where = `${route}: ${JSON.stringify(outcome)}`;
        expect(outcome.accept, where).toBe(entry.verdict.accept);
        if (!entry.verdict.accept && !outcome.accept) {
          expect(outcome.code, where).toBe(entry.verdict.code);
          expect(outcome.text, where).toContain(entry.verdict.reason);
        }
      }
      // Nothing refused was left running or half-written.
      if (!entry.verdict.accept) expect(await s.runningSandboxes()).toEqual([]);
    });
  });
});
