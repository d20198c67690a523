import { mkdir, symlink, writeFile } from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConfigError,
  ErrorCodes,
  HostPathError,
  InvalidOptionError,
  type MsbvError,
  NodeSandbox,
  PythonSandbox,
  VolumeSpecError,
  type SandboxOptions,
} from "../../../src/index.js";
import { snapshotTree, startSafetyServer, type SafetyServer } from "../../helpers/safety-fixture.js";

// At least 40 bad inputs, each through the public client against a real dev server. For every one:
// a typed error with the right code, a message that names the fix, no new `sandbox.start` at the
// server, no sandbox running, no process started, and the whole client project folder (config,
// workspace, `.microsandbox/generated/`) byte- and mtime-identical before and after.

const SECRET = "msbv-test-key-must-never-appear-in-errors";

let s: SafetyServer;
let outside: string;

/** A config file of its own for the file-level cases, in a sub-folder of the project. */
async function badConfig(label: string, toml: string): Promise<string> {
  const dir = path.join(s.project, "bad-configs", label);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, "microsandbox.toml");
  await writeFile(file, toml);
  return file;
}

beforeAll(async () => {
  s = await startSafetyServer();
  outside = path.join(s.root, "outside");
  await mkdir(outside);
  await mkdir(path.join(s.project, "ws", "sub"));
  await writeFile(path.join(s.project, "ws", "keep.txt"), "the user's file\n");
  await writeFile(path.join(s.project, "a-file.txt"), "not a directory");
  await symlink("/etc", path.join(s.project, "etc-link"));
  await symlink(path.join(s.root, "nowhere"), path.join(s.project, "dangling"));
  await mkdir(path.join(s.project, "we:ird"));
  await badConfig("unknown-key", '[defaults]\nvolume = ["./ws:/workspace"]\n');
  await badConfig("inline-key", '[server]\napi_key = "sk-inline-secret"\n');
  await badConfig("unknown-table", "[sandbox.victim]\nmemory = 256\n");
  await badConfig("bad-memory", '[defaults]\nmemory = "lots"\n');
  await badConfig("dotdot-guest", '[defaults]\nvolumes = ["./ws:/workspace/../etc"]\n');
  await badConfig("start-script", '[defaults]\nscripts = { start = "echo hi" }\n');
  await badConfig("not-toml", "[defaults\nmemory = 1\n");
  // One good start first: the generated file and the Sandboxfile exist, so a refused call that wrote
  // anything would change an existing file rather than only add one.
  const good = await PythonSandbox.create({ name: "victim", serverUrl: s.url, configPath: s.configPath, volumes: ["./ws:/workspace"] });
  await good.run("print('seed')");
  await good.stop();
});
afterAll(async () => {
  await s?.close();
});

interface Case {
  title: string;
  options: SandboxOptions | (() => SandboxOptions);
  code: string;
  type: abstract new (...args: never[]) => MsbvError;
  /** What the hint (the "Fix:" part) must say. */
  fix: RegExp;
  kind?: "python" | "node";
}

const vol = (...volumes: NonNullable<SandboxOptions["volumes"]>): SandboxOptions => ({ volumes });
const { INVALID_VOLUME, HOST_PATH_DENIED, HOST_PATH_INVALID, REMOTE_HOST_PATHS, INVALID_OPTION, CONFIG_INVALID } = ErrorCodes;

const cases: Case[] = [
  // Volume syntax and guest rules.
  { title: "volume with an empty host side", options: vol(":/workspace"), code: INVALID_VOLUME, type: VolumeSpecError, fix: /host folder/ },
  { title: "volume with an empty guest side", options: vol("./ws:"), code: INVALID_VOLUME, type: VolumeSpecError, fix: /absolute guest path/ },
  { title: "empty volume string", options: vol(""), code: INVALID_VOLUME, type: VolumeSpecError, fix: /host:guest/ },
  {
    title: "relative guest path",
    options: vol("./ws:workspace"),
    code: INVALID_VOLUME,
    type: VolumeSpecError,
    fix: /start the guest path with '\/'/,
  },
  { title: "'..' in the guest path", options: vol("./ws:/workspace/../etc"), code: INVALID_VOLUME, type: VolumeSpecError, fix: /without '\.\.'/ },
  {
    title: "duplicate guest paths",
    options: vol("./ws:/workspace", "./ws/sub:/workspace"),
    code: INVALID_VOLUME,
    type: VolumeSpecError,
    fix: /own guest path/,
  },
  // Nested guest paths are allowed now (issue 10); the same guest written two ways is still a duplicate.
  {
    title: "a duplicate guest path written two ways",
    options: vol("./ws:/workspace", "./ws/sub:/workspace/"),
    code: INVALID_VOLUME,
    type: VolumeSpecError,
    fix: /own guest path/,
  },
  {
    title: "':' in the guest path",
    options: vol("./ws:/work:space"),
    code: INVALID_VOLUME,
    type: VolumeSpecError,
    fix: /remove ":space"|object form/,
  },
  {
    title: "':' in the host path (object form)",
    options: vol({ host: "./we:ird", guest: "/data" }),
    code: INVALID_VOLUME,
    type: VolumeSpecError,
    fix: /no ':'/,
  },
  {
    title: "':ro' suffix (legacy string has no options)",
    options: vol("./ws:/workspace:ro"),
    code: INVALID_VOLUME,
    type: VolumeSpecError,
    fix: /readonly: true/,
  },
  { title: "newline in the host path", options: vol("./w\ns:/data"), code: INVALID_VOLUME, type: VolumeSpecError, fix: /control character/ },
  { title: "NUL in the guest path", options: vol("./ws:/da\0ta"), code: INVALID_VOLUME, type: VolumeSpecError, fix: /control character/ },
  {
    title: "a volume that is a number",
    options: () => ({ volumes: [42 as unknown as string] }),
    code: INVALID_VOLUME,
    type: VolumeSpecError,
    fix: /host:guest/,
  },
  {
    title: "unknown key in a volume object",
    options: () => vol({ host: "./ws", guest: "/w", ro: true } as unknown as { host: string; guest: string }),
    code: INVALID_VOLUME,
    type: VolumeSpecError,
    fix: /did you mean "readonly"/,
  },
  { title: "mount over /etc in the guest", options: vol("./ws:/etc"), code: INVALID_VOLUME, type: VolumeSpecError, fix: /path of its own/ },
  { title: "mount into /usr in the guest", options: vol("./ws:/usr/local/app"), code: INVALID_VOLUME, type: VolumeSpecError, fix: /path of its own/ },
  { title: "mount over /proc in the guest", options: vol("./ws:/proc"), code: INVALID_VOLUME, type: VolumeSpecError, fix: /path of its own/ },
  { title: "mount at the guest root", options: vol("./ws:/"), code: INVALID_VOLUME, type: VolumeSpecError, fix: /subfolder/ },
  // Host paths: existence, kind, policy.
  {
    title: "missing host folder",
    options: vol("./missing:/data"),
    code: HOST_PATH_INVALID,
    type: HostPathError,
    fix: /create the folder first|create: true/,
  },
  {
    title: "a file instead of a folder",
    options: vol("./a-file.txt:/data"),
    code: HOST_PATH_INVALID,
    type: HostPathError,
    fix: /folder that contains it/,
  },
  // readonly: this dev server enforces it; the refusal against a legacy server is in test/e2e/volumes/readonly.test.ts.
  { title: "host path / (denied)", options: vol("/:/host"), code: HOST_PATH_DENIED, type: HostPathError, fix: /narrower folder/ },
  { title: "host path /etc (denied)", options: vol("/etc:/hostetc"), code: HOST_PATH_DENIED, type: HostPathError, fix: /narrower folder/ },
  { title: "host path ~ (denied)", options: vol("~:/homedir"), code: HOST_PATH_DENIED, type: HostPathError, fix: /narrower folder/ },
  { title: "host path ~/.ssh (denied)", options: vol("~/.ssh:/ssh"), code: HOST_PATH_DENIED, type: HostPathError, fix: /narrower folder/ },
  { title: "a symlink to /etc as the host folder", options: vol("./etc-link:/data"), code: HOST_PATH_DENIED, type: HostPathError, fix: /real path/ },
  // A symlink below the project is never followed, wherever it points (or whether it points anywhere).
  {
    title: "a folder through a symlink to /etc",
    options: vol("./etc-link/ssl:/data"),
    code: HOST_PATH_DENIED,
    type: HostPathError,
    fix: /real folder's path/,
  },
  {
    title: "a path through a dangling symlink",
    options: vol("./dangling/sub:/data"),
    code: HOST_PATH_DENIED,
    type: HostPathError,
    fix: /real folder's path/,
  },
  {
    title: "a folder outside the project (absolute)",
    options: () => vol(`${outside}:/data`),
    code: HOST_PATH_DENIED,
    type: HostPathError,
    fix: /allow/,
  },
  { title: "a folder outside the project via '..'", options: vol("../outside:/data"), code: HOST_PATH_DENIED, type: HostPathError, fix: /allow/ },
  {
    title: "the dev server's own state folder",
    options: () => vol(`${s.serverDir}:/data`),
    code: HOST_PATH_DENIED,
    type: HostPathError,
    fix: /allow/,
  },
  {
    title: "host paths to a server on another machine",
    options: { ...vol("./ws:/workspace"), serverUrl: "http://192.0.2.1:5555" },
    code: REMOTE_HOST_PATHS,
    type: HostPathError,
    fix: /sharedFilesystem[\s\S]*sync/,
  },
  // Names.
  { title: "empty name", options: { name: "" }, code: INVALID_OPTION, type: InvalidOptionError, fix: /letters, digits/ },
  { title: "name with a space and '!'", options: { name: "bad name!" }, code: INVALID_OPTION, type: InvalidOptionError, fix: /letters, digits/ },
  { title: "name longer than 63 characters", options: { name: "n".repeat(64) }, code: INVALID_OPTION, type: InvalidOptionError, fix: /up to 63/ },
  {
    title: "name starting with '-'",
    options: { name: "-victim" },
    code: INVALID_OPTION,
    type: InvalidOptionError,
    fix: /starting with a letter or digit/,
  },
  { title: "name with a path in it", options: { name: "../victim" }, code: INVALID_OPTION, type: InvalidOptionError, fix: /letters, digits/ },
  // Memory and CPUs.
  { title: "memory 0", options: { memory: 0 }, code: INVALID_OPTION, type: InvalidOptionError, fix: /whole number, e\.g\. 512/ },
  { title: "negative memory", options: { memory: -512 }, code: INVALID_OPTION, type: InvalidOptionError, fix: /MiB/ },
  { title: "fractional memory", options: { memory: 1.5 }, code: INVALID_OPTION, type: InvalidOptionError, fix: /MiB/ },
  { title: "cpus 0", options: { cpus: 0 }, code: INVALID_OPTION, type: InvalidOptionError, fix: /1 to 255/ },
  { title: "cpus 0.4 (rounds to 0)", options: { cpus: 0.4 }, code: INVALID_OPTION, type: InvalidOptionError, fix: /1 to 255/ },
  { title: "cpus 300", options: { cpus: 300 }, code: INVALID_OPTION, type: InvalidOptionError, fix: /1 to 255/ },
  { title: "cpus NaN", options: { cpus: Number.NaN }, code: INVALID_OPTION, type: InvalidOptionError, fix: /1 to 255/ },
  // Env strings.
  { title: "env without '='", options: { envs: ["NOEQUALS"] }, code: INVALID_OPTION, type: InvalidOptionError, fix: /NAME=value/ },
  { title: "env name starting with a digit", options: { envs: ["1BAD=x"] }, code: INVALID_OPTION, type: InvalidOptionError, fix: /NAME=value/ },
  { title: "env name with '-'", options: { envs: ["BAD-NAME=x"] }, code: INVALID_OPTION, type: InvalidOptionError, fix: /NAME=value/ },
  { title: "env value with a newline", options: { envs: ["A=line\nINJECTED=1"] }, code: INVALID_OPTION, type: InvalidOptionError, fix: /NAME=value/ },
  { title: "env value with a NUL", options: { envs: ["A=nul\0byte"] }, code: INVALID_OPTION, type: InvalidOptionError, fix: /NAME=value/ },
  // Ports.
  { title: "port 0", options: { ports: ["0"] }, code: INVALID_OPTION, type: InvalidOptionError, fix: /1-65535/ },
  { title: "port 70000", options: { ports: ["70000:80"] }, code: INVALID_OPTION, type: InvalidOptionError, fix: /1-65535/ },
  { title: "port 'abc'", options: { ports: ["abc"] }, code: INVALID_OPTION, type: InvalidOptionError, fix: /1-65535/ },
  { title: "port with three parts", options: { ports: ["1:2:3"] }, code: INVALID_OPTION, type: InvalidOptionError, fix: /hostPort:guestPort/ },
  // Workdir, image, scripts, other options.
  { title: "relative workdir", options: { workdir: "workspace" }, code: INVALID_OPTION, type: InvalidOptionError, fix: /absolute guest path/ },
  {
    title: "workdir with '..'",
    options: { workdir: "/workspace/../etc" },
    code: INVALID_OPTION,
    type: InvalidOptionError,
    fix: /absolute guest path/,
  },
  {
    title: "image with a space",
    options: { image: "microsandbox/python latest" },
    code: INVALID_OPTION,
    type: InvalidOptionError,
    fix: /image reference/,
  },
  { title: "empty image", options: { image: "" }, code: INVALID_OPTION, type: InvalidOptionError, fix: /image reference/ },
  {
    title: "a script named start (would replace the portal)",
    options: { scripts: { start: "echo hi" } },
    code: INVALID_OPTION,
    type: InvalidOptionError,
    fix: /rename the script/,
  },
  {
    title: "a script name with a path",
    options: { scripts: { "../evil": "echo hi" } },
    code: INVALID_OPTION,
    type: InvalidOptionError,
    fix: /letters, digits/,
  },
  { title: "negative start timeout", options: { timeout: -5 }, code: INVALID_OPTION, type: InvalidOptionError, fix: /seconds/ },
  {
    title: "server URL that is not http",
    options: { serverUrl: "ftp://127.0.0.1:5555" },
    code: INVALID_OPTION,
    type: InvalidOptionError,
    fix: /URL such as/,
  },
  {
    title: "server URL with credentials",
    options: { serverUrl: "http://user:pw@127.0.0.1:5555" },
    code: INVALID_OPTION,
    type: InvalidOptionError,
    fix: /URL such as/,
  },
  {
    title: "node sandbox with a bad env",
    kind: "node",
    options: { envs: ["=nothing"] },
    code: INVALID_OPTION,
    type: InvalidOptionError,
    fix: /NAME=value/,
  },
  // microsandbox.toml.
  {
    title: "unknown key in microsandbox.toml (volume for volumes)",
    options: () => ({ configPath: path.join(s.project, "bad-configs/unknown-key/microsandbox.toml") }),
    code: CONFIG_INVALID,
    type: ConfigError,
    fix: /volumes/,
  },
  {
    title: "unknown table in microsandbox.toml",
    options: () => ({ configPath: path.join(s.project, "bad-configs/unknown-table/microsandbox.toml") }),
    code: CONFIG_INVALID,
    type: ConfigError,
    fix: /sandboxes/,
  },
  {
    title: "inline api_key in microsandbox.toml",
    options: () => ({ configPath: path.join(s.project, "bad-configs/inline-key/microsandbox.toml") }),
    code: CONFIG_INVALID,
    type: ConfigError,
    fix: /api_key_env/,
  },
  {
    title: "memory as a string in microsandbox.toml",
    options: () => ({ configPath: path.join(s.project, "bad-configs/bad-memory/microsandbox.toml") }),
    code: CONFIG_INVALID,
    type: ConfigError,
    fix: /memory/,
  },
  {
    title: "'..' guest path in microsandbox.toml",
    options: () => ({ configPath: path.join(s.project, "bad-configs/dotdot-guest/microsandbox.toml") }),
    code: CONFIG_INVALID,
    type: ConfigError,
    fix: /'\.\.'/,
  },
  {
    title: "scripts.start in microsandbox.toml",
    options: () => ({ configPath: path.join(s.project, "bad-configs/start-script/microsandbox.toml") }),
    code: CONFIG_INVALID,
    type: ConfigError,
    fix: /rename the script/,
  },
  {
    title: "microsandbox.toml that is not TOML",
    options: () => ({ configPath: path.join(s.project, "bad-configs/not-toml/microsandbox.toml") }),
    code: CONFIG_INVALID,
    type: ConfigError,
    fix: /./,
  },
];

describe(`${cases.length} bad inputs: typed error naming the fix; nothing sent, started or written`, () => {
  it("has at least 40 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases.map((c) => [c.title, c] as const))("%s", async (_title, c) => {
    const options = typeof c.options === "function" ? c.options() : c.options;
    const startsBefore = s.server.received.length;
    const treeBefore = await snapshotTree(s.project);
    const Sandbox = c.kind === "node" ? NodeSandbox : PythonSandbox;
    const err = await Sandbox.create({ name: "victim", serverUrl: s.url, configPath: s.configPath, apiKey: SECRET, ...options }).then(
      async (sb) => {
        await sb.stop();
        return new Error("the sandbox started");
      },
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(c.type);
    const e = err as MsbvError;
    expect(e.code).toBe(c.code);
    // The message names the fix: MsbvError appends the hint as "Fix: …"; a ConfigError's hint points at
    // the listed issues, each of which carries its own fix in the message.
    expect(e.message).toContain("Fix: ");
    expect(e instanceof ConfigError ? e.message : (e.hint ?? "")).toMatch(c.fix);
    expect(e.message).not.toContain(SECRET);
    expect(e.message).not.toContain("sk-inline-secret");
    expect(JSON.stringify(e.details)).not.toContain(SECRET);

    expect(s.server.received.length).toBe(startsBefore);
    expect(await s.runningSandboxes()).toEqual([]);
    expect(await s.sandboxProcesses()).toEqual([]);
    expect(await snapshotTree(s.project)).toEqual(treeBefore);
  });
});
