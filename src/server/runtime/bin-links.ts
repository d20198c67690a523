import { accessSync, constants } from "node:fs";
import type { RuntimeLanguage } from "./images.js";
import type { Interpreters } from "./interpreters.js";

/**
 * A folder on the sandbox's root, (re)made by bubblewrap at each start, holding the command names the
 * upstream images have and a host may lack: `microsandbox/python` is built on `python:latest`,
 * where `python`, `python3` and `pip` all exist; Debian hosts only ship `python3`/`pip3`.
 * It comes first on PATH so `python` is the same interpreter the REPL uses.
 */
export const BIN_LINK_DIR = "/opt/msbv/bin";

export interface BinLink {
  /** Command name inside {@link BIN_LINK_DIR}. */
  name: string;
  /** Absolute target, visible inside the sandbox (under /usr or a bound interpreter prefix). */
  target: string;
}

const PIP_CANDIDATES = ["/usr/bin/pip3", "/usr/local/bin/pip3"];

/**
 * The links for one sandbox; `pip` only when the host has a system pip3 (asked at every start: it
 * may be installed while the server runs). Two local `access` calls, made synchronously: through
 * libuv's thread pool each was a hand-over of the server's thread in a burst of starts.
 */
export function binLinks(language: RuntimeLanguage, interpreters: Interpreters): BinLink[] {
  if (language !== "python" || !interpreters.python) return [];
  const links: BinLink[] = [{ name: "python", target: interpreters.python }];
  for (const candidate of PIP_CANDIDATES) {
    if (executable(candidate)) {
      links.push({ name: "pip", target: candidate });
      break;
    }
  }
  return links;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
