/**
 * Upstream-style example: running shell commands in a sandbox, with exit codes and a timeout
 * as third positional argument. Only the import differs from legacy `microsandbox` code.
 */
import { PythonSandbox } from "../../../../src/index.js";

async function main() {
  const sandbox = await PythonSandbox.create({ name: "example-command" });

  try {
    // List the root directory
    const listing = await sandbox.command.run("ls", ["-la", "/"]);
    console.log("Command:", listing.command, listing.args.join(" "));
    console.log("Exit code:", listing.exitCode);
    console.log("Success:", listing.success);
    console.log("Output:");
    console.log(await listing.output());

    // A command that fails: its exit code is reported, not thrown
    const failing = await sandbox.command.run("sh", ["-c", "echo to-stderr >&2; exit 3"], 30);
    console.log("Failing exit code:", failing.exitCode);
    console.log("Failing success:", failing.success);
    console.log("Failing stderr:", await failing.error());

    // Commands run without a shell unless you ask for one
    const piped = await sandbox.command.run("sh", ["-c", "echo hello | tr a-z A-Z"]);
    console.log("Piped:", await piped.output());
  } finally {
    await sandbox.stop();
  }
}

await main();
