import { guestPathProblems, tryParseVolumeSpec, type VolumeProblem } from "../volumes/index.js";
import type { KeyPath } from "./key-locator.js";
import { checkSandboxName, checkStartScript } from "./option-rules.js";

/** A problem found in the file, before it is given a location. */
export interface RawIssue {
  path: KeyPath;
  message: string;
  /** Point at the key itself rather than its value (unknown keys). */
  atKey?: boolean;
}

// Rules that span several keys. They read the raw TOML data defensively (the schema may have failed
// elsewhere) so that every problem of the file is reported in one go.

const isTable = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

export function semanticIssues(raw: Record<string, unknown>): RawIssue[] {
  const issues: RawIssue[] = [];
  const defaults = isTable(raw.defaults) ? raw.defaults : undefined;
  const sandboxes = isTable(raw.sandboxes) ? raw.sandboxes : {};
  const declared = new Set(Object.keys(sandboxes));
  const defaultImage = typeof defaults?.image === "string" ? defaults.image : undefined;

  const checkTable = (table: Record<string, unknown>, base: KeyPath, self?: string) => {
    const image = typeof table.image === "string" ? table.image : defaultImage;
    const own = isTable(table.scripts) ? table.scripts : undefined;
    const inherited = self !== undefined && isTable(defaults?.scripts) ? defaults.scripts : undefined;
    const problem = checkStartScript({ ...inherited, ...own }, image);
    if (problem) {
      // Point at the script if this table defines it, else at the image that makes the inherited one fatal.
      const ownStart = own && Object.hasOwn(own, "start");
      issues.push({
        path: ownStart ? [...base, "scripts", "start"] : [...base, "image"],
        message: ownStart
          ? `${problem}; rename the script, or use an image of your own`
          : `${problem} (scripts.start comes from [defaults]); rename that script, or use an image of your own`,
        atKey: ownStart === true,
      });
    }
    if (Array.isArray(table.depends_on)) {
      table.depends_on.forEach((dep, i) => {
        if (typeof dep !== "string" || checkSandboxName(dep)) return; // the schema reports these
        if (dep === self) issues.push({ path: [...base, "depends_on", i], message: `sandbox "${dep}" cannot depend on itself` });
        else if (!declared.has(dep)) {
          const known = [...declared].map((n) => `"${n}"`).join(", ") || "none";
          issues.push({
            path: [...base, "depends_on", i],
            message: `depends_on names "${dep}", which is not a [sandboxes.${dep}] table in this file (declared: ${known})`,
          });
        }
      });
    }
    if (Array.isArray(table.volumes)) issues.push(...volumeIssues(table.volumes, [...base, "volumes"]));
  };

  if (defaults) checkTable(defaults, ["defaults"]);
  for (const [name, table] of Object.entries(sandboxes)) {
    const problem = checkSandboxName(name);
    if (problem) issues.push({ path: ["sandboxes", name], message: `${problem} (the server's naming rules)`, atKey: true });
    if (isTable(table)) checkTable(table, ["sandboxes", name], name);
  }
  return issues;
}

/** Volume syntax and guest rules within one table (duplicates across [defaults] are overrides, not errors). */
function volumeIssues(volumes: unknown[], base: KeyPath): RawIssue[] {
  const issues: RawIssue[] = [];
  const guests: { guest: string; index: number; source: string }[] = [];
  const toIssue = (p: VolumeProblem): RawIssue => ({ path: [...base, p.index], message: `${p.message} (fix: ${p.hint})` });
  volumes.forEach((spec, index) => {
    const candidate = typeof spec === "string" ? spec : shapeOnly(spec);
    if (candidate === undefined) return; // the schema reports shape problems, with locations per key
    const parsed = tryParseVolumeSpec(candidate, index);
    if ("code" in parsed) issues.push(toIssue(parsed));
    else {
      guests.push({ guest: parsed.guest, index, source: parsed.source });
    }
  });
  issues.push(...guestPathProblems(guests).map(toIssue));
  return issues;
}

/** The host/guest of a well-shaped volume table or tuple; undefined when the schema has something to say. */
function shapeOnly(spec: unknown): { host: string; guest: string } | undefined {
  if (Array.isArray(spec)) {
    return spec.length === 2 && typeof spec[0] === "string" && typeof spec[1] === "string" ? { host: spec[0], guest: spec[1] } : undefined;
  }
  if (!isTable(spec) || typeof spec.host !== "string") return undefined;
  const guest = "mount" in spec && !("guest" in spec) ? spec.mount : spec.guest;
  return typeof guest === "string" ? { host: spec.host, guest } : undefined;
}
