#!/usr/bin/env zx
// The README demo: a sandbox writes into ./workspace, a second session reads it back, the host
// shows the files. Runs against the local dev server (bubblewrap), started here on a free port.
import { fs, path, chalk } from "zx";
import { startDevServer } from "microsandbox-volumes/server";
import { PythonSandbox, NodeSandbox, Workspace } from "microsandbox-volumes";
import { NODE_READS_SESSION_2, READ_BACK_AND_REUSE_SKILL, writeResultsAndSkill } from "./lib/agent-sessions.mjs";

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
    const exec = await sb.run(writeResultsAndSkill("session 1"));
    console.log(await exec.output());
    if (exec.hasError()) throw new Error(await exec.error());
  } finally {
    await sb.stop();
  }

  step("session 2: a new sandbox session reads the workspace back and reuses the skill");
  sb = await PythonSandbox.create({ name: "agent" });
  try {
    const exec = await sb.run(READ_BACK_AND_REUSE_SKILL);
    console.log(await exec.output());
    if (exec.hasError()) throw new Error(await exec.error());
  } finally {
    await sb.stop();
  }

  step("session 3: a Node sandbox with the same workspace sees the same files");
  const node = await NodeSandbox.create({ name: "node-agent" });
  try {
    const exec = await node.run(`console.log(${NODE_READS_SESSION_2})`);
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
