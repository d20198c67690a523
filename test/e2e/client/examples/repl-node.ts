/**
 * Upstream-style example: a Node sandbox keeps REPL state between runs.
 * Only the import differs from code written for the legacy `microsandbox` SDK.
 */
import { NodeSandbox } from "../../../../src/index.js";

async function main() {
  const sb = await NodeSandbox.create({ name: "example-node" });

  try {
    let exec = await sb.run("var name = 'JavaScript'");
    exec = await sb.run("console.log(`Hello ${name}!`)");

    console.log(await exec.output()); // Hello JavaScript!

    exec = await sb.run("console.log(process.version.startsWith('v'))");
    console.log("Node version check:", await exec.output());
  } finally {
    await sb.stop();
  }
}

await main();
