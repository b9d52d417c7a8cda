// The report's charts: Vega-Lite specs compiled and rendered to SVG headless by Vega (no browser, no canvas).
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

import { usd, type LabReport } from "./lab.js";

/** Renders a Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const WIDTH = 520;
const HEIGHT = 260;

/**
 * The loss policies side by side: P(taken from traders > x) per policy over a grid to the largest amount any took,
 * from the exact per-path amounts of the report (none without `--policies`).
 */
function policyChart(r: LabReport): { file: string; title: string; spec: TopLevelSpec }[] {
  if (r.policies.length === 0) return [];
  const taken = r.policies.map((p) => ({ policy: p.policy, usd: p.takenExact.map((x) => usd(BigInt(x))) }));
  const max = Math.max(0, ...taken.flatMap((p) => p.usd));
  const grid = Array.from({ length: 41 }, (_, i) => (max * i) / 40);
  return [
    {
      file: "policies.svg",
      title: "Loss policies side by side: probability that a path takes more than x from traders (same paths)",
      spec: {
        width: WIDTH,
        height: HEIGHT,
        data: {
          values: taken.flatMap((p) =>
            grid.map((x) => ({
              x,
              probability: p.usd.filter((v) => v > x).length / p.usd.length,
              policy: p.policy,
            })),
          ),
        },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "x", type: "quantitative", title: "taken from traders per path, x (USD)" },
          y: { field: "probability", type: "quantitative", title: "P(taken > x)", axis: { format: ".2%" } },
          color: { field: "policy", type: "nominal", title: null },
          // Policies that took the same amounts draw the same line: dashes keep each visible.
          strokeDash: { field: "policy", type: "nominal", title: null },
        },
      },
    },
  ];
}

/** The charts of report.html, as Vega-Lite specs built from the report's numbers only. */
export function chartSpecs(r: LabReport): { file: string; title: string; spec: TopLevelSpec }[] {
  const positive = r.rows.filter((x) => x.badDebt > 0).map((x) => ({ badDebt: x.badDebt }));
  const lines = [
    { label: "VaR 99%", value: r.badDebt.var99 },
    { label: "ES 99%", value: r.badDebt.es99 },
    { label: "VaR 99.9%", value: r.badDebt.var999 },
    { label: "ES 99.9%", value: r.badDebt.es999 },
  ];
  return [
    {
      file: "bad-debt.svg",
      title: `Bad debt per path (the ${positive.length} of ${r.rows.length} paths with any), with VaR and ES`,
      spec: {
        width: WIDTH,
        height: HEIGHT,
        layer: [
          {
            data: { values: positive },
            mark: "bar",
            encoding: {
              x: { field: "badDebt", type: "quantitative", bin: { maxbins: 40 }, title: "bad debt per path (USD)" },
              y: { aggregate: "count", type: "quantitative", title: "paths" },
            },
          },
          {
            data: { values: lines },
            mark: { type: "rule", strokeDash: [4, 3] },
            encoding: {
              x: { field: "value", type: "quantitative" },
              color: { field: "label", type: "nominal", title: null },
            },
          },
        ],
      },
    },
    {
      file: "depletion.svg",
      title: "Probability that a path's bad debt exceeds the fund, against the fund size",
      spec: {
        width: WIDTH,
        height: HEIGHT,
        data: { values: r.depletionCurve },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "fund", type: "quantitative", title: "insurance fund (USD)" },
          y: { field: "probability", type: "quantitative", title: "P(bad debt > fund)", axis: { format: ".2%" } },
        },
      },
    },
    {
      file: "loss-policy.svg",
      title: "ADL and socialized volume per path against the path's worst drop",
      spec: {
        width: WIDTH,
        height: HEIGHT,
        data: {
          values: r.rows.flatMap((x) => [
            { crash: x.crash, amount: x.deleveraged, policy: "ADL (ETH-USD)" },
            { crash: x.crash, amount: x.socialized, policy: "socialized (BTC-USD)" },
          ]),
        },
        mark: { type: "point", filled: true, opacity: 0.6 },
        encoding: {
          x: { field: "crash", type: "quantitative", title: "worst drop from the start", axis: { format: ".0%" } },
          y: { field: "amount", type: "quantitative", title: "charged to traders (USD)" },
          color: { field: "policy", type: "nominal", title: null },
        },
      },
    },
    {
      file: "tail.svg",
      title: "Daily loss tail: fitted generalized Pareto against the empirical exceedances (log scale)",
      spec: {
        width: WIDTH,
        height: HEIGHT,
        data: { values: r.tail.flatMap((t) => t.points.map((p) => ({ ...p, asset: t.asset }))) },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "loss", type: "quantitative", title: "daily log loss", axis: { format: ".0%" } },
          y: { field: "survival", type: "quantitative", scale: { type: "log" }, title: "P(loss > x)" },
          color: { field: "asset", type: "nominal", title: null },
          strokeDash: { field: "kind", type: "nominal", title: null },
        },
      },
    },
    ...policyChart(r),
  ];
}
