// Runs the dev server in its own process so the bench can read its peak RSS from /proc and so the
// server's event loop is not shared with the client being measured. Prints one JSON line on stdout
// once listening; closes cleanly on SIGTERM/SIGINT or when stdin closes (parent gone).
import { startDevServer } from "microsandbox-volumes/server";

const projectDir = process.argv[2];
// Pre-started sandboxes per image (src/server/runtime/pool); absent: the server's default.
const poolSize = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const server = await startDevServer({ port: 0, dev: true, projectDir, ...(poolSize === undefined ? {} : { poolSize }), logger: () => {} });
process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  try {
    await server.close();
  } finally {
    process.exit(0);
  }
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
process.stdin.on("end", shutdown);
process.stdin.resume();
