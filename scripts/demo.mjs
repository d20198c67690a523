#!/usr/bin/env zx
// The README demo: a sandbox writes into ./workspace, a second session reads it back, the host
// shows the files. Runs against the local dev server (bubblewrap), started here on a free port.
import { fs, path, chalk } from "zx";
import { startDevServer } from "microsandbox-volumes/server";
import { PythonSandbox, NodeSandbox, Workspace } from "microsandbox-volumes";

const root = path.resolve(import.meta.dirname, "..");
process.chdir(root);
const step = (s) => console.error(chalk.cyan(`\n▶ ${s}`));

step("starting the dev server (bubblewrap, loopback, free port)");
const server = await startDevServer({
  port: 0,
  dev: true,
  projectDir: path.join(root, ".microsandbox", "dev-server"),
  // Keep the demo readable: show the server's failures, not every successful request.
  logger: (line) => {
    if (!/-> 200$/.test(line)) console.error(chalk.dim(`[dev-server] ${line}`));
  },
});
// Env beats the file: the [server] url in microsandbox.toml names the usual port 5555.
process.env.MSB_SERVER_URL = server.url;
console.log(`dev server: ${server.url}`);

try {
  await fs.mkdirp(path.join(root, "workspace"));

  step("session 1: sandbox 'agent' (declared in microsandbox.toml) writes into /workspace");
  // Plain JS on Node 22 has no `await using` yet (TypeScript users get it); try/finally does the same.
  let sb = await PythonSandbox.create({ name: "agent" });
  try {
    const exec = await sb.run(`
import json, os, platform
os.makedirs("/workspace/skills", exist_ok=True)
with open("/workspace/skills/fib.py", "w") as f:
    _ = f.write("def fib(n):\\n    a, b = 0, 1\\n    for _ in range(n):\\n        a, b = b, a + b\\n    return a\\n")
with open("/workspace/results.json", "w") as f:
    json.dump({"written_by": "session 1", "python": platform.python_version(), "role": os.environ.get("AGENT_ROLE")}, f)
print("wrote", sorted(os.listdir("/workspace")))
`);
    console.log(await exec.output());
    if (exec.hasError()) throw new Error(await exec.error());
  } finally {
    await sb.stop();
  }

  step("session 2: a new sandbox session reads the workspace back and reuses the skill");
  sb = await PythonSandbox.create({ name: "agent" });
  try {
    const exec = await sb.run(`
import json, sys
sys.path.insert(0, "/workspace/skills")
from fib import fib
data = json.load(open("/workspace/results.json"))
print("session 2 read:", data)
print("fib(30) via the saved skill =", fib(30))
_ = open("/workspace/session2.txt", "w").write(f"fib(30)={fib(30)}\\n")
`);
    console.log(await exec.output());
    if (exec.hasError()) throw new Error(await exec.error());
  } finally {
    await sb.stop();
  }

  step("session 3: a Node sandbox with the same workspace sees the same files");
  const node = await NodeSandbox.create({ name: "node-agent" });
  try {
    const exec = await node.run(`console.log(require("fs").readFileSync("/workspace/session2.txt", "utf8").trim())`);
    console.log(await exec.output());
    if (exec.hasError()) throw new Error(await exec.error());
  } finally {
    await node.stop();
  }

  step("the host shows the files (read with Workspace: never follows a symlink out)");
  const ws = await Workspace.open(path.join(root, "workspace"));
  for (const entry of await ws.list(".", { recursive: true })) {
    console.log(`${entry.type.padEnd(9)} ${String(entry.size).padStart(6)}  workspace/${entry.path}`);
  }
  console.log("\nresults.json on the host:", (await ws.readText("results.json")).trim());
  console.log(`\ngenerated config: ${path.relative(root, path.join(root, ".microsandbox", "generated", "agent.toml"))}`);
  console.log((await fs.readFile(path.join(root, ".microsandbox", "generated", "agent.toml"), "utf8")).trim());
} finally {
  await server.close();
}
console.error(chalk.green("\n✔ demo finished: see ./workspace"));
