#!/usr/bin/env zx
// Applies patches/*.patch to a checkout of zerocore-ai/microsandbox at ba02ae3 (the last commit with
// the legacy server and SDKs) and, with --verify, runs each patched SDK's own checks where the
// toolchain is available, plus a wire check against patches/fixtures/start-body.json.
//
//   scripts/apply-patches.mjs <upstream-checkout> [--verify] [--only javascript|python]
//
// Exit code: 0 when every step that ran passed (skipped steps are listed with the reason), 1 when a
// step failed, 2 on bad usage.
import { $, argv, fs, path, chalk, glob } from "zx";
import { createRequire } from "node:module";
import http from "node:http";
import { isDeepStrictEqual } from "node:util";

const UPSTREAM_COMMIT = "ba02ae334e319faefd8c18dde34bce9822ab3df5";
const root = path.resolve(import.meta.dirname, "..");
const fixture = JSON.parse(await fs.readFile(path.join(root, "patches/fixtures/start-body.json"), "utf8"));
const PATCHES = [
  { id: "javascript", file: "javascript-sdk-volumes.patch", sdk: "sdk/javascript", verify: verifyJavascript },
  { id: "python", file: "python-sdk-volumes.patch", sdk: "sdk/python", verify: verifyPython },
];

// Same recording server in Python: reads the fixture options on stdin, prints the start body.
const PY_RECORD_START = `
import asyncio, json, sys
from aiohttp import web
from microsandbox import PythonSandbox

async def main():
    opts = json.load(sys.stdin)
    bodies = []
    async def handle(request):
        body = await request.json()
        bodies.append(body)
        return web.json_response({"jsonrpc": "2.0", "result": "ok", "id": body.get("id")})
    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = "http://127.0.0.1:%d" % runner.addresses[0][1]
    keys = {"dependsOn": "depends_on"}
    kwargs = {keys.get(k, k): v for k, v in opts.items()}
    try:
        async with PythonSandbox.create(server_url=url, **kwargs):
            pass
    finally:
        await runner.cleanup()
    print(json.dumps(bodies[0]))

asyncio.run(main())
`;

const results = []; // { step, status: "ok" | "skipped" | "failed", detail }
const record = (step, status, detail = "") => {
  results.push({ step, status, detail });
  const color = { ok: chalk.green, skipped: chalk.yellow, failed: chalk.red }[status];
  console.log(`${color(status.padEnd(7))} ${step}${detail ? ` — ${detail}` : ""}`);
};

/** Runs a command, echoing it like a shell transcript; returns the ProcessOutput (never throws). */
async function run(step, cmd) {
  console.log(chalk.dim(`$ ${cmd.cmd}`));
  const out = await cmd.nothrow();
  const text = (out.stdout + out.stderr).trim();
  if (text)
    console.log(
      text
        .split("\n")
        .map((l) => `  ${l}`)
        .join("\n"),
    );
  record(step, out.exitCode === 0 ? "ok" : "failed", out.exitCode === 0 ? "" : `exit code ${out.exitCode}`);
  return out;
}

if (argv.help || argv._.length !== 1) {
  console.error("usage: scripts/apply-patches.mjs <upstream-checkout> [--verify] [--only javascript|python]");
  process.exit(argv.help ? 0 : 2);
}
const checkout = path.resolve(String(argv._[0]));
const selected = PATCHES.filter((p) => !argv.only || p.id === argv.only);
if (selected.length === 0) {
  console.error(`--only must be one of: ${PATCHES.map((p) => p.id).join(", ")} (got "${argv.only}")`);
  process.exit(2);
}
$.verbose = false;
$.quiet = true;

const head = await $`git -C ${checkout} rev-parse HEAD`.nothrow();
if (head.exitCode !== 0) {
  console.error(`${checkout} is not a git checkout: ${head.stderr.trim()}`);
  console.error("hint: git clone https://github.com/zerocore-ai/microsandbox && git -C microsandbox checkout ba02ae3");
  process.exit(1);
}
if (head.stdout.trim() !== UPSTREAM_COMMIT) {
  console.error(`${checkout} is at ${head.stdout.trim()}, the patches are made against ${UPSTREAM_COMMIT}`);
  console.error(`hint: git -C ${checkout} checkout ${UPSTREAM_COMMIT.slice(0, 7)} (or a branch made from it)`);
  process.exit(1);
}
record(`upstream HEAD is ${UPSTREAM_COMMIT.slice(0, 7)}`, "ok");

for (const patch of selected) {
  const file = path.join(root, "patches", patch.file);
  const check = await $`git -C ${checkout} apply --check ${file}`.nothrow();
  if (check.exitCode === 0) {
    console.log(chalk.dim(`$ git -C ${checkout} apply --check ${file}`));
    record(`git apply --check ${patch.file}`, "ok");
    await run(`git apply ${patch.file}`, $`git -C ${checkout} apply ${file}`);
  } else if ((await $`git -C ${checkout} apply --reverse --check ${file}`.nothrow()).exitCode === 0) {
    record(`git apply ${patch.file}`, "skipped", "already applied (reverse check passes)");
  } else {
    record(`git apply --check ${patch.file}`, "failed", check.stderr.trim());
  }
}

if (argv.verify) {
  for (const patch of selected) {
    if (results.some((r) => r.status === "failed" && r.step.includes(patch.file))) {
      record(`verify ${patch.id}`, "skipped", "the patch did not apply");
      continue;
    }
    await patch.verify(path.join(checkout, patch.sdk));
  }
}

const failed = results.filter((r) => r.status === "failed");
console.log(chalk.bold("\nSummary"));
for (const r of results) console.log(`  ${r.status.padEnd(7)} ${r.step}${r.detail ? ` — ${r.detail}` : ""}`);
process.exit(failed.length ? 1 : 0);

async function verifyJavascript(dir) {
  const d = $({ cwd: dir });
  if ((await $`command -v npm`.nothrow()).exitCode !== 0) {
    return record("javascript: npm install/build/test", "skipped", "npm is not on PATH");
  }
  const ping = await $({ timeout: "30s" })`npm ping`.nothrow();
  if (ping.exitCode !== 0) {
    return record("javascript: npm install/build/test", "skipped", "the npm registry is not reachable (npm ping failed)");
  }
  // The SDK ships a pnpm lock only; npm resolves from package.json ranges.
  for (const [step, cmd] of [
    ["javascript: npm install", () => d`npm install --no-audit --no-fund`],
    ["javascript: npm run build", () => d`npm run build`],
    ["javascript: npm test", () => d`npm test`],
  ]) {
    if ((await run(step, cmd())).exitCode !== 0) return;
  }
  const sdk = createRequire(path.join(dir, "package.json"))(path.join(dir, "dist/index.js"));
  const body = await recordStartBody((serverUrl) => sdk.PythonSandbox.create({ ...fixture.options, serverUrl }));
  compareWithFixture("javascript", body);
}

async function verifyPython(dir) {
  const files = await glob(["microsandbox/**/*.py", "examples/**/*.py", "tests/**/*.py"], { cwd: dir });
  const interpreters = [...new Set([process.env.PYTHON, "python3", "/usr/bin/python3"].filter(Boolean))];
  const available = [];
  for (const py of interpreters) if ((await $`${py} --version`.nothrow()).exitCode === 0) available.push(py);
  if (available.length === 0) return record("python: py_compile/tests", "skipped", "no python3 found");
  await run(`python: py_compile (${files.length} files, ${available[0]})`, $({ cwd: dir })`${available[0]} -m py_compile ${files}`);

  // The SDK pins aiohttp>=3.10,<3.11; any interpreter that imports aiohttp and dotenv is tried,
  // and a version outside the pin is reported rather than hidden.
  let py;
  for (const candidate of available) {
    if ((await $`${candidate} -c ${"import aiohttp, dotenv"}`.nothrow()).exitCode === 0) {
      py = candidate;
      break;
    }
  }
  if (!py) {
    return record("python: tests", "skipped", `aiohttp and python-dotenv are not importable by ${available.join(", ")}`);
  }
  const version = (await $`${py} -c ${"import aiohttp; print(aiohttp.__version__)"}`).stdout.trim();
  const [maj, min] = version.split(".").map(Number);
  if (!(maj === 3 && min === 10)) {
    record(`python: aiohttp ${version} with ${py}`, "ok", "outside the SDK's pin >=3.10,<3.11; tests run with it anyway");
  }
  const hasPytest = (await $`${py} -c ${"import pytest"}`.nothrow()).exitCode === 0;
  await run(
    `python: tests (${hasPytest ? "pytest" : "unittest"}, ${py})`,
    hasPytest ? $({ cwd: dir })`${py} -m pytest -q tests` : $({ cwd: dir })`${py} -m unittest discover -s tests`,
  );
  const out = await $({ cwd: dir, input: JSON.stringify(fixture.options) })`${py} -c ${PY_RECORD_START}`.nothrow();
  if (out.exitCode !== 0) return record("python: start body equals the fixture", "failed", out.stderr.trim());
  compareWithFixture("python", JSON.parse(out.stdout));
}

function compareWithFixture(sdk, body) {
  const { id, ...rest } = body;
  const same = typeof id === "string" && isDeepStrictEqual(rest, fixture.body);
  record(`${sdk}: start body equals patches/fixtures/start-body.json`, same ? "ok" : "failed", same ? "" : `got ${JSON.stringify(body)}`);
}

/** Starts a one-request JSON-RPC server, runs `start(serverUrl)`, returns the sandbox.start body. */
async function recordStartBody(start) {
  let body;
  const server = http.createServer((req, res) => {
    let data = "";
    req.on("data", (c) => (data += c));
    req.on("end", () => {
      body ??= JSON.parse(data);
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", result: "ok", id: JSON.parse(data).id }));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await start(`http://127.0.0.1:${server.address().port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  return body;
}
