import { posix } from "node:path";
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

/** A volume string split by the legacy PathPair rule (first `:`; no `:` = same path both sides). */
export interface VolumePair {
  host: string;
  guest: string;
}

export function splitVolume(spec: string): VolumePair | undefined {
  if (spec.length === 0) return undefined;
  const colon = spec.indexOf(":");
  if (colon === -1) return { host: spec, guest: spec };
  const host = spec.slice(0, colon);
  const guest = spec.slice(colon + 1);
  return host && guest ? { host, guest } : undefined;
}

/** Throws a 400/2001 naming the first bad image, volume, port or env string. */
export function validateConfigStrings(config: StartConfig & { image: string }): void {
  validateImage(config.image);
  validateVolumes(config.volumes);
  config.ports.forEach((port, i) => {
    if (!isPortMapping(port)) {
      throw validationError(
        `Invalid port mapping '${port}' in config.ports[${i}]: expected 'host:guest' or a single port, each 0-65535`,
      );
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

/** Syntax and guest-path rules for a list of volume strings (host paths are checked later). */
export function validateVolumes(volumes: readonly string[]): VolumePair[] {
  const pairs: VolumePair[] = [];
  volumes.forEach((spec, i) => {
    const fail = (why: string) => validationError(`Invalid volume '${spec}' in config.volumes[${i}]: ${why}`);
    const pair = splitVolume(spec);
    if (!pair) throw fail("expected 'host:guest' with both sides non-empty");
    if (pair.guest.includes(":")) {
      throw fail("mount options such as ':ro' are not supported (the legacy server has none); use 'host:guest'");
    }
    if (pair.host.includes("\0") || pair.guest.includes("\0")) throw fail("paths must not contain NUL characters");
    if (!pair.guest.startsWith("/")) throw fail("the guest path must be absolute");
    if (pair.guest.split("/").includes("..")) throw fail("the guest path must not contain '..'");
    const guest = normaliseGuest(pair.guest);
    for (const [j, other] of pairs.entries()) {
      if (nests(guest, other.guest)) {
        throw fail(`its guest path overlaps the one of config.volumes[${j}] ('${volumes[j] ?? ""}')`);
      }
    }
    pairs.push({ host: pair.host, guest });
  });
  return pairs;
}

function normaliseGuest(guest: string): string {
  const normal = posix.normalize(guest);
  return normal.length > 1 && normal.endsWith("/") ? normal.slice(0, -1) : normal;
}

function nests(a: string, b: string): boolean {
  const within = (inner: string, outer: string) => inner === outer || inner.startsWith(outer === "/" ? "/" : `${outer}/`);
  return within(a, b) || within(b, a);
}

function isPortMapping(text: string): boolean {
  const parts = text.split(":");
  if (parts.length > 2) return false;
  return parts.every((p) => PORT.test(p) && Number(p) <= 65_535);
}
