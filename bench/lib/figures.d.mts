// Types for figures.mjs (consumed by the TypeScript unit tests).
export interface Figure {
  id: string;
  label: string;
  value: number | null;
  low: number | null;
  high: number | null;
  unit: string;
  target: { limit: number; direction: "max" | "min"; unit: string } | null;
  verdict: "met" | "missed" | "n/a" | "info";
  note: string | null;
}
type S = { median: number; min: number; max: number; p25?: number; p75?: number };
export function ratioOf(a: S | undefined, b: S | undefined): { value: number; low: number; high: number } | undefined;
export function computeFigures(sections: Record<string, unknown>): Figure[];
