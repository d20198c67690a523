import type * as z from "zod";
import { ConfigError, type ConfigIssue } from "../errors/index.js";
import { allowedKeysAt } from "./file-schema.js";
import type { RawIssue } from "./file-semantics.js";
import { createKeyLocator, formatKeyPath } from "./key-locator.js";
import { describe } from "./option-rules.js";
import { suggestKey } from "./suggest.js";

/** Zod's findings in the words of this package (unknown keys get a "did you mean"). */
export function zodToRawIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): RawIssue[] {
  const out: RawIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path].map((p) => (typeof p === "symbol" ? String(p) : p));
    // A union (string or table) fails as a whole; report the branch of the right type in detail.
    const branch = issue.code === "invalid_union" ? issue.errors.find((errs) => !isTypeMismatch(errs)) : undefined;
    if (branch) {
      out.push(...zodToRawIssues(branch, path));
    } else if (issue.code === "unrecognized_keys") {
      const allowed = allowedKeysAt(path);
      for (const key of issue.keys) {
        const guess = suggestKey(key, allowed);
        const tail = guess ? `did you mean "${guess}"?` : `allowed keys here: ${allowed.join(", ")}`;
        out.push({ path: [...path, key], message: `unknown key "${key}"; ${tail}`, atKey: true });
      }
    } else if (issue.code === "invalid_type" && issue.message.startsWith("Invalid input")) {
      const got = issue.input === undefined ? undefined : describe(issue.input);
      out.push({ path, message: got === undefined ? `is required (${issue.expected})` : `must be ${article(issue.expected)}, got ${got}` });
    } else if (issue.code === "custom" && issue.params?.atKey === true) {
      out.push({ path, message: issue.message, atKey: true });
    } else {
      out.push({ path, message: issue.message });
    }
  }
  return out;
}

function isTypeMismatch(errs: readonly z.core.$ZodIssue[]): boolean {
  return errs.length === 1 && errs[0]?.code === "invalid_type" && errs[0].path.length === 0;
}

function article(expected: string): string {
  if (expected === "object" || expected === "record") return "a table";
  if (expected === "array") return "an array";
  if (expected === "int") return "an integer";
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/** Gives each issue its line and column in `source`, sorted as they appear in the file. */
export function locateIssues(file: string, source: string, raw: readonly RawIssue[]): ConfigIssue[] {
  const locator = createKeyLocator(source);
  const located = raw.map((r): ConfigIssue => {
    const pos = r.atKey ? locator.keyAt(r.path) : locator.valueAt(r.path);
    return { file, ...(pos ? { line: pos.line, column: pos.column } : {}), keyPath: formatKeyPath(r.path), message: r.message };
  });
  return located.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

/** `file:line:col key.path: message`, the one format every config problem is printed in. */
export function formatIssue(issue: ConfigIssue): string {
  const where = [issue.file ?? "<config>", issue.line, issue.column].filter((p) => p !== undefined).join(":");
  return issue.keyPath ? `${where} ${issue.keyPath}: ${issue.message}` : `${where}: ${issue.message}`;
}

/** One ConfigError carrying every issue, each listed on its own line. */
export function configError(file: string, issues: readonly ConfigIssue[], cause?: unknown): ConfigError {
  const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
  const lines = issues.map((i) => `  ${formatIssue(i)}`).join("\n");
  return new ConfigError(`config file ${file} has ${count}:\n${lines}`, issues, {
    hint: `edit ${file} at the positions listed (every problem is reported, not only the first)`,
    details: { file },
    ...(cause === undefined ? {} : { cause }),
  });
}
