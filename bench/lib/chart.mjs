// Charts are vega-lite specs compiled to vega and rendered headless to SVG (no hand-written SVG).
import * as vega from "vega";
import { compile } from "vega-lite";

/**
 * @param {import("vega-lite").TopLevelSpec} vlSpec
 * @returns {Promise<string>} SVG text
 */
export async function renderSvg(vlSpec) {
  const spec = compile(vlSpec).spec;
  const view = new vega.View(vega.parse(spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const LOG = { type: "log" };
const FONT = { config: { font: "Helvetica, Arial, sans-serif", view: { stroke: null } } };

/**
 * Round trip: median ms per method for each scenario, whiskers from min to max. Log scale because
 * the copy-out workaround is an order of magnitude above the others.
 * @param {{ scenario: string, method: string, median: number, min: number, max: number }[]} rows
 */
export function roundTripSpec(rows) {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Workspace round trip (sandbox writes, host reads back)", subtitle: "median, whiskers min–max; log scale" },
    data: { values: rows },
    width: 420,
    height: 260,
    encoding: {
      x: { field: "scenario", type: "nominal", title: null, axis: { labelAngle: 0 } },
      xOffset: { field: "method", type: "nominal", sort: ["floor (host write)", "mounted volume", "copy-out (tar|base64)"] },
      color: {
        field: "method",
        type: "nominal",
        sort: ["floor (host write)", "mounted volume", "copy-out (tar|base64)"],
        legend: { orient: "bottom", title: null, labelLimit: 320 },
      },
    },
    layer: [
      { mark: "bar", encoding: { y: { field: "median", type: "quantitative", scale: LOG, stack: null, title: "ms (log)" } } },
      {
        mark: { type: "rule", color: "#333" },
        encoding: { y: { field: "min", type: "quantitative", scale: LOG }, y2: { field: "max" } },
      },
      {
        mark: { type: "text", dy: -8, fontSize: 10 },
        encoding: {
          y: { field: "max", type: "quantitative", scale: LOG },
          text: { field: "median", type: "quantitative", format: ".0f" },
          color: { value: "#333" },
        },
      },
    ],
    ...FONT,
  };
}

/**
 * Scale: throughput and p50/p95 create latency against the number of concurrent sandboxes.
 * @param {{ concurrency: number, throughput: number, p50: number, p95: number }[]} rows
 */
export function scaleSpec(rows) {
  const long = rows.flatMap((r) => [
    { concurrency: r.concurrency, stat: "p50 create", ms: r.p50 },
    { concurrency: r.concurrency, stat: "p95 create", ms: r.p95 },
  ]);
  const x = { field: "concurrency", type: "ordinal", title: "concurrent sandboxes", axis: { labelAngle: 0 } };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Scale: concurrent sandboxes, each with its own workspace volume" },
    hconcat: [
      {
        title: "throughput (create + run + stop)",
        data: { values: rows },
        width: 240,
        height: 220,
        layer: [
          { mark: "bar", encoding: { x, y: { field: "throughput", type: "quantitative", title: "sandboxes / s" } } },
          {
            mark: { type: "text", dy: -6, fontSize: 10 },
            encoding: { x, y: { field: "throughput", type: "quantitative" }, text: { field: "throughput", format: ".1f" } },
          },
        ],
      },
      {
        title: "create latency",
        data: { values: long },
        width: 240,
        height: 220,
        mark: { type: "line", point: true },
        encoding: {
          x,
          y: { field: "ms", type: "quantitative", title: "ms" },
          color: { field: "stat", type: "nominal", legend: { orient: "bottom", title: null } },
        },
      },
    ],
    ...FONT,
  };
}
