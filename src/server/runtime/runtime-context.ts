import { DevServerError } from "../../errors/index.js";
import { probeHostLayout } from "./bwrap-args.js";
import { detectLimitMechanism, sweepStaleCgroups } from "./containment/limits.js";
import { serverIsRoot } from "./containment/sandbox-identity.js";
import { findBwrap } from "./find-bwrap.js";
import { resolveInterpreters } from "./interpreters.js";
import type { RuntimeContext } from "./sandbox-instance.js";
import { prepareStateDir, writeSeccompProgram } from "./state-dir.js";

/** What every sandbox of one runtime shares, found and written once (bubblewrap, interpreters, /etc, seccomp, limits). */
export async function createRuntimeContext(options: { stateDir: string; bwrapPath?: string; allowNetwork?: boolean }): Promise<RuntimeContext> {
  const bwrapPath = options.bwrapPath ?? (await findBwrap());
  if (!bwrapPath) {
    throw new DevServerError("Cannot start sandboxes: bubblewrap (bwrap) was not found on PATH or in /usr/bin.", {
      hint: "install it (Debian/Ubuntu: `apt-get install bubblewrap`) or set MSBV_BWRAP to its path",
    });
  }
  const interpreters = await resolveInterpreters();
  if (!interpreters) {
    throw new DevServerError(
      "Cannot start sandboxes: no Node.js binary outside home directories was found (looked at /usr/local/bin/node, /usr/bin/node and the running node).",
      {
        hint: "install Node.js system-wide; the sandbox supervisor needs it",
      },
    );
  }
  const [etcDir, layout, limits] = await Promise.all([prepareStateDir(options.stateDir), probeHostLayout(), detectLimitMechanism(serverIsRoot())]);
  const seccompFile = await writeSeccompProgram(etcDir);
  if (limits.mechanism === "cgroup-v1") await sweepStaleCgroups();
  return {
    stateDir: options.stateDir,
    bwrapPath,
    etcDir,
    layout,
    interpreters,
    network: options.allowNetwork === true,
    seccompFile,
    limitMechanism: limits.mechanism,
  };
}
