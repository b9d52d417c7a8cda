// calibration.md: the calibration as a person reads it. Percentages are of log-return units.
import type { AssetCalibration, Calibration, PublishedRange } from "./calibrate.js";

const pct = (x: number | null, digits = 2): string => (x === null ? "n/a" : `${(100 * x).toFixed(digits)}%`);
const num = (x: number | null, digits = 4): string => (x === null || Number.isNaN(x) ? "n/a" : x.toPrecision(digits));
const withSe = (x: number, se: number): string => (Number.isNaN(se) ? num(x) : `${num(x)} ± ${num(se, 2)}`);
const row = (cells: readonly string[]): string => `| ${cells.join(" | ")} |`;
const table = (head: readonly string[], rows: readonly (readonly string[])[]): string[] => [
  row(head),
  row(head.map(() => "---")),
  ...rows.map(row),
];

/** A published range and whether the fitted value falls in it. */
function against(value: number, range: PublishedRange | undefined): string {
  if (range === undefined) return "—";
  const inside = value >= range.low && value <= range.high;
  return `${range.low}–${range.high} (${inside ? "inside" : "outside"})`;
}

function riskTable(a: AssetCalibration): string[] {
  return [
    `### ${a.asset}`,
    "",
    ...table(
      ["level", "empirical VaR", "empirical ES", "normal VaR", "normal ES", "t VaR", "t ES", "GPD VaR", "GPD ES"],
      a.risk.map((r) => [
        pct(r.level, 1),
        pct(r.empiricalVaR),
        pct(r.empiricalES),
        pct(r.normalVaR),
        pct(r.normalES),
        pct(r.studentTVaR),
        pct(r.studentTES),
        pct(r.gpdVaR),
        pct(r.gpdES),
      ]),
    ),
    "",
  ];
}

/** The Markdown report of a calibration. */
export function calibrationMarkdown(c: Calibration): string {
  const xiRange = c.published.find((p) => p.parameter.startsWith("GPD shape"));
  const level = pct(c.settings.backtestLevel, 0);
  const lines: string[] = [
    "# Stress lab — calibration",
    "",
    "First stage of the stress lab (issue 12): fat-tailed models fitted to daily BTC-USD and ETH-USD prices,",
    "their one-day VaR and expected shortfall, and a backtest. The scenario, trader-population and",
    "fund-sizing stages are not built yet. Returns are daily log returns ln(C_t/C_{t−1}); a loss is a",
    "negative return, and percentages below are of log-return units (a 10% log loss is a 9.5% price fall).",
    "",
    "## Data",
    "",
    ...table(
      ["asset", "file", "sha256", "first day", "last day", "days", "returns", "null rows skipped"],
      c.assets.map((a) => [
        a.asset,
        `\`${a.source.file}\``,
        `\`${a.source.sha256.slice(0, 12)}…\``,
        a.source.firstDate,
        a.source.lastDate,
        String(a.source.days),
        String(a.returns.count),
        a.source.skippedNullDates.length === 0 ? "none" : a.source.skippedNullDates.join(", "),
      ]),
    ),
    "",
    "Returns only join consecutive calendar days; a day missing at the source removes the two returns around it.",
    "",
    "## Returns and intraday drops",
    "",
    ...table(
      [
        "asset",
        "mean",
        "std. dev.",
        "worst day",
        "best day",
        "median open-to-low",
        "99% open-to-low",
        "worst open-to-low",
      ],
      c.assets.map((a) => [
        a.asset,
        pct(a.returns.mean, 3),
        pct(a.returns.standardDeviation),
        `${pct(a.returns.worst.value)} (${a.returns.worst.date})`,
        `${pct(a.returns.best.value)} (${a.returns.best.date})`,
        pct(a.openToLow.median),
        pct(a.openToLow.p99),
        `${pct(a.openToLow.worst.value)} (${a.openToLow.worst.date})`,
      ]),
    ),
    "",
    "Open-to-low is 1 − low/open, the intraday fall a long position at the open lives through (a price fraction).",
    "",
    "## Student-t fit (maximum likelihood)",
    "",
    ...table(
      ["asset", "location μ", "scale σ", "degrees of freedom ν", "log-likelihood"],
      c.assets.map((a) => [
        a.asset,
        withSe(a.studentT.mu, a.studentT.se.mu),
        withSe(a.studentT.sigma, a.studentT.se.sigma),
        withSe(a.studentT.nu, a.studentT.se.nu),
        a.studentT.logLikelihood.toFixed(1),
      ]),
    ),
    "",
    "ν below 4 means the fourth moment is infinite; below 2, the variance. ± is one standard error (observed information).",
    "",
    "## GARCH(1,1) with Student-t innovations (maximum likelihood)",
    "",
    ...table(
      ["asset", "μ", "ω", "α", "β", "α + β", "ν", "next-day σ", "unconditional σ", "log-likelihood"],
      c.assets.map((a) => {
        const g = a.garchT;
        return [
          a.asset,
          withSe(g.mu, g.se.mu),
          withSe(g.omega, g.se.omega),
          withSe(g.alpha, g.se.alpha),
          withSe(g.beta, g.se.beta),
          num(g.persistence, 6),
          withSe(g.nu, g.se.nu),
          pct(Math.sqrt(g.nextVariance)),
          g.unconditionalVariance === null ? "not finite" : pct(Math.sqrt(g.unconditionalVariance)),
          g.logLikelihood.toFixed(1),
        ];
      }),
    ),
    "",
  ];
  if (c.assets.some((a) => a.garchT.integrated)) {
    lines.push(
      `${c.assets
        .filter((a) => a.garchT.integrated)
        .map((a) => a.asset)
        .join(" and ")}: α + β reaches 1 (integrated GARCH): a volatility shock does not fade and`,
      "there is no long-run variance, so standard errors at that boundary are n/a. Long samples with falling",
      "volatility regimes push GARCH fits there (Lamoureux & Lastrapes 1990); the simulator starts from the",
      "next-day σ and runs short horizons, where this matters little.",
      "",
    );
  }
  lines.push(
    "## Loss tail: peaks over threshold (generalized Pareto, maximum likelihood)",
    "",
    ...table(
      ["asset", "threshold quantile", "threshold u", "exceedances", "shape ξ", "scale β", `published ξ`],
      c.assets.map((a) => [
        a.asset,
        pct(a.tail.thresholdQuantile, 1),
        pct(a.tail.threshold),
        `${a.tail.exceedances} of ${a.tail.n}`,
        withSe(a.tail.xi, a.tail.se.xi),
        withSe(a.tail.beta, a.tail.se.beta),
        against(a.tail.xi, xiRange),
      ]),
    ),
    "",
    `ξ > 0 is a power-law tail with index 1/ξ: moments of order 1/ξ and above are infinite. Published: ${xiRange?.source ?? "none"}.`,
    "",
    "ξ depends on the threshold: fewer, larger losses above a higher one. Refitted at other thresholds",
    "(a steady ξ across them supports the choice; Coles 2001, §4.3.4):",
    "",
    ...table(
      ["asset", ...c.settings.stabilityQuantiles.map((q) => `ξ at ${pct(q, 1)}`)],
      c.assets.map((a) => [
        a.asset,
        ...c.settings.stabilityQuantiles.map((q) => {
          const f = a.tailStability.find((t) => t.thresholdQuantile === q);
          return f === undefined ? "too few losses" : `${withSe(f.xi, f.seXi)} (${f.exceedances})`;
        }),
      ]),
    ),
    "",
  );
  const d = c.dependence;
  if (d !== null) {
    lines.push(
      `## Dependence of ${d.assets[0]} and ${d.assets[1]}`,
      "",
      `${d.pairs} days with both returns, ${d.from} to ${d.to}.`,
      "",
      ...table(
        ["measure", "value"],
        [
          ["Pearson correlation", num(d.pearson)],
          ["Spearman's ρ", num(d.spearman)],
          ["Kendall's τ", num(d.kendall)],
          ...d.lowerTail.map((t) => [
            `empirical lower-tail dependence C(q,q)/q at q = ${pct(t.q, 0)}`,
            num(t.empirical),
          ]),
          ["t copula ρ = sin(πτ/2)", num(d.tCopula.rho)],
          ["t copula ν (maximum likelihood)", num(d.tCopula.nu)],
          ["t copula tail dependence λ", num(d.tCopula.tailDependence)],
        ],
      ),
      "",
      "Lower-tail dependence at q is the chance that one asset has one of its worst q days given the other",
      "has: independent assets give q, a Gaussian copula gives a value that falls to 0 as q → 0, a t copula",
      "keeps λ > 0.",
      "",
    );
  }
  if (c.check !== null) {
    const k = c.check;
    lines.push(
      "## Model check: simulated days against history",
      "",
      `The joint model (Student-t margins, the t copula above, intraday lows and highs bootstrapped from`,
      `the same historical day for both assets) simulated for ${k.days} independent days with seed ${k.seed},`,
      `against the ${k.historicalDays} days both assets have. This is the simulator the scenario stage will use.`,
      "",
      ...table(
        ["measure", "history", "simulated"],
        k.rows.map((r) => [r.measure, pct(r.historical), pct(r.simulated)]),
      ),
      "",
    );
  }
  lines.push(
    "## One-day VaR and expected shortfall of a long position",
    "",
    "Empirical: quantile and tail mean of the historical losses. Normal: mean and std. dev. of the sample.",
    "t: the fitted Student-t. GPD: the peaks-over-threshold fit (levels beyond the threshold only).",
    "",
    ...c.assets.flatMap(riskTable),
    `## Backtest of the one-day VaR ${level}`,
    "",
    ...table(
      ["asset", "model", "basis", "days", "exceedances", "expected", "Kupiec LR", "p-value", "at 5%"],
      c.assets.flatMap((a) =>
        a.backtest.map((b) => [
          a.asset,
          b.model,
          `${b.basis}, ${b.from} to ${b.to}`,
          String(b.observations),
          String(b.exceedances),
          b.expected.toFixed(1),
          b.lr.toFixed(2),
          b.pValue.toFixed(4),
          b.pValue < 0.05 ? "rejected" : "not rejected",
        ]),
      ),
    ),
    "",
    "Kupiec's proportion-of-failures test (1995): LR = −2 ln[(1−p)^(n−x) p^x] + 2 ln[(1−x/n)^(n−x) (x/n)^x],",
    "χ²(1) if the VaR is right; a p-value under 5% rejects the model's exceedance rate.",
    "",
  );
  return lines.join("\n");
}
