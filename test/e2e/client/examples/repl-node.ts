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

    // A caught error printed with console.error goes to stderr
    exec = await sb.run("try { console.log(undefinedVariable) } catch (error) { console.error('Caught error:', error.message) }");
    console.log("Stdout empty:", (await exec.output()) === "");
    console.log("Stderr:", await exec.error());
    console.log("Has error:", exec.hasError());

    // Built-in modules through require
    exec = await sb.run(
      "const fs = require('fs'); const os = require('os');\nfs.writeFileSync('/tmp/hello.txt', 'Hello file');\nconsole.log(fs.readFileSync('/tmp/hello.txt', 'utf8'), os.platform())",
    );
    console.log("Modules:", await exec.output());

    // Declarations chain across runs
    await sb.run("const numbers = [1, 2, 3, 4, 5];");
    exec = await sb.run("console.log(`Sum: ${numbers.reduce((a, b) => a + b, 0)}`)");
    console.log(await exec.output());
  } finally {
    await sb.stop();
  }
}

await main();
