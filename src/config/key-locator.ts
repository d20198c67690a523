import { parseTOML, type AST } from "toml-eslint-parser";

type TOMLContentNode = AST.TOMLContentNode;
type TOMLKeyValue = AST.TOMLKeyValue;
type TOMLTable = AST.TOMLTable;

// smol-toml gives values but no positions, so semantic errors are located with a TOML AST
// (toml-eslint-parser). It only runs when there is something to report: the happy path parses once.

/** 1-based line and column. */
export interface SourcePosition {
  line: number;
  column: number;
}

export type KeyPath = readonly (string | number)[];

/** `sandboxes.agent.volumes[0].guest`; keys that are not bare TOML keys are quoted. */
export function formatKeyPath(path: KeyPath): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else {
      const key = /^[A-Za-z0-9_-]+$/.test(part) ? part : JSON.stringify(part);
      out += out === "" ? key : `.${key}`;
    }
  }
  return out;
}

export interface KeyLocator {
  /** Where the key (or table header, or array element) of this path is written. */
  keyAt(path: KeyPath): SourcePosition | undefined;
  /** Where the value of this path starts; falls back to the key, then to the nearest ancestor. */
  valueAt(path: KeyPath): SourcePosition | undefined;
}

/** Builds a locator for `source`; one that knows nothing when the AST parser disagrees with smol-toml. */
export function createKeyLocator(source: string): KeyLocator {
  const keys = new Map<string, SourcePosition>();
  const values = new Map<string, SourcePosition>();
  const remember = (map: Map<string, SourcePosition>, path: KeyPath, pos: SourcePosition) => {
    // The first mention wins: it is where a table or key is introduced.
    for (let i = 1; i <= path.length; i++) {
      const id = formatKeyPath(path.slice(0, i));
      if (!keys.has(id)) keys.set(id, pos);
    }
    const id = formatKeyPath(path);
    if (!map.has(id)) map.set(id, pos);
  };

  const visitContent = (node: TOMLContentNode, path: KeyPath) => {
    remember(values, path, toPos(node.loc.start));
    if (node.type === "TOMLArray") {
      node.elements.forEach((el, i) => {
        remember(keys, [...path, i], toPos(el.loc.start));
        visitContent(el, [...path, i]);
      });
    } else if (node.type === "TOMLInlineTable") {
      for (const kv of node.body) visitKeyValue(kv, path);
    }
  };
  const visitKeyValue = (kv: TOMLKeyValue, base: KeyPath) => {
    const path = [...base, ...kv.key.keys.map((k) => (k.type === "TOMLBare" ? k.name : k.value))];
    remember(keys, path, toPos(kv.key.loc.start));
    visitContent(kv.value, path);
  };

  try {
    const ast = parseTOML(source, { tomlVersion: "latest" });
    for (const item of ast.body[0].body) {
      if (item.type === "TOMLTable") visitTable(item);
      else visitKeyValue(item, []);
    }
  } catch {
    // Locations are a courtesy; the issue is still reported with its key path.
  }

  function visitTable(table: TOMLTable) {
    remember(keys, table.resolvedKey, toPos(table.loc.start));
    remember(values, table.resolvedKey, toPos(table.loc.start));
    for (const kv of table.body) visitKeyValue(kv, table.resolvedKey);
  }

  const nearest = (path: KeyPath, first: Map<string, SourcePosition>) => {
    for (let n = path.length; n > 0; n--) {
      const id = formatKeyPath(path.slice(0, n));
      const hit = (n === path.length ? first.get(id) : undefined) ?? keys.get(id);
      if (hit) return hit;
    }
    return undefined;
  };
  return {
    keyAt: (path) => nearest(path, keys),
    valueAt: (path) => nearest(path, values),
  };
}

function toPos(p: { line: number; column: number }): SourcePosition {
  return { line: p.line, column: p.column + 1 };
}
