import { validationError } from "./json-rpc.js";
import type { StartConfig } from "./start-params.js";

// Upstream writes these strings into the Sandboxfile unchecked, and one bad string then breaks
// typed parsing of the whole file (docs/protocol.md#config-strings, "poisoning"). We check them before anything is
// written and answer 400/2001 instead — an intentional deviation.

// Docker reference grammar, condensed: [domain[:port]/]path[:tag][@digest].
const DOMAIN = String.raw`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?`;
const COMPONENT = String.raw`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`;
const TAG = String.raw`(?::[\w][\w.-]{0,127})?`;
const DIGEST = String.raw`(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?`;
const IMAGE_REFERENCE = new RegExp(`^${DOMAIN}${COMPONENT}(?:/${COMPONENT})*${TAG}${DIGEST}$`);

const ENV_NAME = /^[^=\0]+$/;
const PORT = /^\d{1,5}$/;

/**
 * Throws a 400/2001 naming the first bad image, port or env string. Volumes and the workdir are
 * judged by src/volumes (see methods/volumes.ts checkStartVolumes), the rules the client uses.
 */
export function validateConfigStrings(config: StartConfig & { image: string }): void {
  validateImage(config.image);
  config.ports.forEach((port, i) => {
    if (!isPortMapping(port)) {
      throw validationError(`Invalid port mapping '${port}' in config.ports[${i}]: expected 'host:guest' or a single port, each 0-65535`);
    }
  });
  config.envs.forEach((env, i) => {
    const eq = env.indexOf("=");
    if (eq <= 0 || !ENV_NAME.test(env.slice(0, eq))) {
      throw validationError(`Invalid environment variable '${env}' in config.envs[${i}]: expected NAME=value with a non-empty NAME`);
    }
  });
}

function validateImage(image: string): void {
  if (image.startsWith("/") || image.startsWith(".")) {
    throw validationError(
      `Invalid image '${image}': host directories as root filesystems are not supported by this server; use microsandbox/python or microsandbox/node`,
    );
  }
  if (!IMAGE_REFERENCE.test(image)) {
    throw validationError(`Invalid image '${image}': not a valid image reference such as microsandbox/python`);
  }
}

function isPortMapping(text: string): boolean {
  const parts = text.split(":");
  if (parts.length > 2) return false;
  return parts.every((p) => PORT.test(p) && Number(p) <= 65_535);
}
