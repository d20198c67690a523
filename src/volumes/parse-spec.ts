import { ErrorCodes } from "../errors/codes.js";
import { describeSpec, problemsToError, type VolumeProblem } from "./problems.js";
import { normalizeGuestPath } from "./guest-paths.js";
import { hasLoneSurrogate } from "../text/lone-surrogate.js";
import type { ParsedVolume, VolumeSpec } from "./types.js";

const OBJECT_KEYS = ["host", "guest", "readonly", "create"] as const;
/** `{ host, mount }` is what a widely used fork of the Python SDK sends: `mount` is the guest path. */
const MOUNT_KEYS = ["host", "mount", "readonly", "create"] as const;

/** Every form a volume may take, named in the error for anything else. */
export const ACCEPTED_FORMS = '"host:guest", { host, guest, readonly?, create? }, { host, mount, readonly?, create? } or [host, guest]';
// Characters the wire (a YAML Sandboxfile, an fstab line, bwrap argv) cannot carry safely.
const CONTROL = /[\0\n\r]/;

/** What is wrong with one side of a volume, and the fix. */
export type VolumeIssue = { message: string; hint: string };

/**
 * Why a host or guest path is not text (it holds a lone UTF-16 surrogate, which JSON and JS strings
 * allow), or undefined. Such a path has no UTF-8 form: it cannot name a folder, be written to the
 * Sandboxfile or reach bubblewrap, so it is refused here, before any request. The dev server's
 * runtime re-applies this same rule as its last check (src/server/runtime/volume-checks.ts).
 */
export function notTextIssue(side: "host" | "guest", value: string): VolumeIssue | undefined {
  if (!hasLoneSurrogate(value)) return undefined;
  return {
    message: `the ${side} path is not valid Unicode text: it holds a lone UTF-16 surrogate`,
    hint: `write the ${side} path as valid Unicode text (a lone surrogate such as "\\ud800" usually comes from a string cut inside an emoji or a bad decode)`,
  };
}

function guestIssue(guest: string, objectForm: boolean): VolumeIssue | undefined {
  if (guest === "") return { message: "the guest path is empty", hint: 'give an absolute guest path such as "/workspace"' };
  if (CONTROL.test(guest)) {
    return { message: "the guest path contains a NUL, newline or carriage return", hint: "remove the control character from the guest path" };
  }
  const notText = notTextIssue("guest", guest);
  if (notText) return notText;
  if (objectForm && guest.includes(":")) {
    return { message: `guest mount path must not contain ':', ';', or ',': ${guest}`, hint: "remove the ':' from the guest path" };
  }
  if (/[,;]/.test(guest)) {
    return { message: `guest mount path must not contain ':', ';', or ',': ${guest}`, hint: "remove the ',' or ';' from the guest path" };
  }
  if (!guest.startsWith("/")) {
    return {
      message: `guest mount path must be absolute: ${guest}`,
      hint: `start the guest path with '/', e.g. "/${guest.replace(/^\.?\/*/, "") || "workspace"}"`,
    };
  }
  if (guest.split("/").includes("..")) {
    return { message: `guest mount path must not contain '..': ${guest}`, hint: "write the guest path without '..' components" };
  }
  if (normalizeGuestPath(guest) === "/") {
    return { message: "cannot mount a volume at guest root /", hint: 'mount at a subfolder such as "/workspace"' };
  }
  return undefined;
}

function hostIssue(host: string, objectForm: boolean): VolumeIssue | undefined {
  if (host === "") return { message: "the host path is empty", hint: 'give a host folder such as "./workspace"' };
  if (CONTROL.test(host)) {
    return { message: "the host path contains a NUL, newline or carriage return", hint: "remove the control character from the host path" };
  }
  const notText = notTextIssue("host", host);
  if (notText) return notText;
  if (objectForm && host.includes(":")) {
    return {
      message: `bind host path must not contain ':': ${host} (the wire form is "host:guest")`,
      hint: "rename or move the folder, or mount a parent folder whose path has no ':'",
    };
  }
  if (host.startsWith("~") && host !== "~" && !host.startsWith("~/")) {
    return { message: `only a leading "~/" is expanded; "${host}" is ambiguous`, hint: "write the absolute path of the other user's folder" };
  }
  return undefined;
}

function fromString(spec: string): { host: string; guest: string } | VolumeIssue {
  if (spec.trim() === "") return { message: "the volume spec is empty", hint: 'write "host:guest", e.g. "./workspace:/workspace"' };
  const colon = spec.indexOf(":");
  // Upstream "PathPair" rule: split at the first ':'; no ':' means the same path on both sides.
  if (colon < 0) return { host: spec, guest: spec };
  const host = spec.slice(0, colon);
  const guest = spec.slice(colon + 1);
  const second = guest.indexOf(":");
  if (second >= 0) {
    const g = guest.slice(0, second);
    const opts = guest.slice(second + 1);
    if (/^[A-Za-z]$/.test(host)) {
      return {
        message: 'Windows drive letters cannot be expressed in the legacy "host:guest" form',
        hint: `use the object form { host: "${host}:${g}", guest: "..." } on a POSIX host path`,
      };
    }
    const ro = opts.split(",").some((o) => o.trim() === "ro" || o.trim() === "readonly");
    return {
      message:
        `has a second ':'; the legacy string form is "host:guest" with no options segment ` +
        `(the legacy server would mount a folder literally named "${guest}")`,
      hint: ro
        ? `use { host: ${JSON.stringify(host)}, guest: ${JSON.stringify(g)}, readonly: true } (read-only needs a backend that enforces it)`
        : `remove ":${opts}", or use the object form { host: ${JSON.stringify(host)}, guest: ${JSON.stringify(g)} }`,
    };
  }
  return { host, guest };
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] ?? 0;
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] ?? 0;
}

function suggestKey(key: string): string | undefined {
  const lower = key.toLowerCase();
  const exact = OBJECT_KEYS.find((k) => k === lower || (lower === "read_only" && k === "readonly"));
  if (exact) return exact;
  let best: { k: string; d: number } | undefined;
  for (const k of OBJECT_KEYS) {
    const d = editDistance(lower, k);
    if (d <= 2 && (!best || d < best.d)) best = { k, d };
  }
  if (!best && ["source", "src", "from", "bind"].includes(lower)) return "host";
  if (!best && ["target", "dst", "destination", "to", "mountpoint", "path"].includes(lower)) return "guest";
  if (!best && ["ro", "read-only"].includes(lower)) return "readonly";
  return best?.k;
}

function fromObject(spec: object): { host: string; guest: string; readonly: boolean; create: boolean } | VolumeIssue {
  const rec = spec as Record<string, unknown>;
  const mountForm = "mount" in rec && !("guest" in rec);
  const keys: readonly string[] = mountForm ? MOUNT_KEYS : OBJECT_KEYS;
  for (const key of Object.keys(rec)) {
    if (keys.includes(key)) continue;
    if (key === "mount") {
      return { message: 'both "guest" and "mount" are given', hint: 'keep one of them: "mount" is another name for "guest"' };
    }
    const s = suggestKey(key);
    return {
      message: `unknown key "${key}" in volume object`,
      hint: s ? `did you mean "${s}"? Allowed keys: ${keys.join(", ")}` : `allowed keys: ${keys.join(", ")}`,
    };
  }
  const guestKey = mountForm ? "mount" : "guest";
  for (const key of ["host", guestKey] as const) {
    if (typeof rec[key] !== "string") {
      return {
        message: rec[key] === undefined ? `"${key}" is missing` : `"${key}" must be a string, got ${typeof rec[key]}`,
        hint: `write { host: "./workspace", ${guestKey}: "/workspace" }`,
      };
    }
  }
  for (const key of ["readonly", "create"] as const) {
    if (rec[key] !== undefined && typeof rec[key] !== "boolean") {
      return { message: `"${key}" must be true or false, got ${describeSpec(rec[key])}`, hint: `write ${key}: true or leave it out` };
    }
  }
  return { host: rec.host as string, guest: rec[guestKey] as string, readonly: rec.readonly === true, create: rec.create === true };
}

function fromTuple(spec: readonly unknown[]): { host: string; guest: string } | VolumeIssue {
  if (spec.length !== 2 || typeof spec[0] !== "string" || typeof spec[1] !== "string") {
    return {
      message: `a volume tuple must be [host, guest] (two strings), got ${describeSpec(spec)}`,
      hint: 'write ["./workspace", "/workspace"], or { host, guest, readonly: true } for options',
    };
  }
  return { host: spec[0], guest: spec[1] };
}

/** Like parseVolumeSpec but returns the problem instead of throwing (used to gather every problem). */
export function tryParseVolumeSpec(spec: unknown, index: number): ParsedVolume | VolumeProblem {
  const source = describeSpec(spec);
  const fail = (i: VolumeIssue): VolumeProblem => ({ index, source, code: ErrorCodes.INVALID_VOLUME, ...i });
  let raw: { host: string; guest: string; readonly?: boolean; create?: boolean } | VolumeIssue;
  // Object and tuple forms carry each path whole, so a ':' inside them is a content problem, not a split.
  const objectForm = typeof spec === "object" && spec !== null;
  if (typeof spec === "string") raw = fromString(spec);
  else if (Array.isArray(spec)) raw = fromTuple(spec);
  else if (objectForm) raw = fromObject(spec);
  else {
    raw = {
      message: `a volume must be ${ACCEPTED_FORMS}, got ${spec === null ? "null" : typeof spec}`,
      hint: `write one of ${ACCEPTED_FORMS}, e.g. "./workspace:/workspace"`,
    };
  }
  if ("message" in raw) return fail(raw);
  const issue = hostIssue(raw.host, objectForm) ?? guestIssue(raw.guest, objectForm);
  if (issue) return fail(issue);
  return {
    host: raw.host,
    guest: normalizeGuestPath(raw.guest),
    readonly: raw.readonly ?? false,
    create: raw.create ?? false,
    source,
  };
}

/**
 * Checks the syntax of one volume spec (no filesystem access). String form `"host:guest"` splits at the
 * first ':' like upstream; a second ':' (e.g. `":ro"`) is refused, never ignored. Throws VolumeSpecError
 * (MSBV_INVALID_VOLUME) naming `volumes[index]`, the value and the fix.
 */
export function parseVolumeSpec(spec: VolumeSpec, index: number): ParsedVolume {
  const r = tryParseVolumeSpec(spec, index);
  if ("code" in r) throw problemsToError([r]);
  return r;
}
