// The run stage's report: report.json (everything, for machines), report.md and report.html (for people).
import { LOW_LEVERAGE, type ContractReport, type LabReport } from "./lab.js";

const money = (x: number): string =>
  `${x.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} USD`;
const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

/**
 * report.json: two-space indented; no clock or host in it, so a seeded run writes the same bytes. The speed of the
 * contract-backed paths is wall time: it stays in report.md and report.html (and results/bench/stress.json).
 */
export function labJson(r: LabReport): string {
  const timeless = (c: ContractReport | { skipped: string }): object =>
    "skipped" in c
      ? c
      : {
          ...c,
          setupSeconds: undefined,
          seconds: undefined,
          pathsPerSecond: undefined,
          secondsByMode: undefined,
          cpuSeconds: undefined,
        };
  const h = r.contractBackedHaircut;
  const out = {
    ...r,
    contractBacked: timeless(r.contractBacked),
    ...(h === undefined ? {} : { contractBackedHaircut: timeless(h) }),
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}

function table(head: string[], rows: string[][]): string[] {
  return [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
}

/** report.md: the figures a risk manager reads, amounts in USD (the collateral token, mUSD on the local deployment). */
export function labMarkdown(r: LabReport): string {
  const s = r.settings;
  const c = r.concentration;
  const f = r.fundSizing;
  const lines = [
    "# Stress lab: insurance-fund sizing",
    "",
    `${s.paths} Monte Carlo paths of ${s.horizonDays} days (seed ${s.seed}), GARCH(1,1)-t margins joined by the fitted t copula, ` +
      `intraday gaps (${pct(s.gapShare)} of each intraday leg in one oracle update, then ${pct(s.deviation)} steps), ` +
      `keeper latency ${s.latencyBlocks} blocks, insurance fund ${money(s.fundUsd)}. Markets as deployed: ` +
      s.markets.map((m) => `${m.symbol} (${m.lossPolicy})`).join(", ") +
      `, liquidation buffer ${pct(Number(s.markets[0]?.liquidationBuffer ?? 0) / 1e18)} above maintenance. ` +
      "Amounts in USD of the collateral token.",
    "",
    "## Population",
    "",
    `${c.accounts} accounts (makers balancing each market included), open interest ${money(c.totalNotionalUsd)}; ` +
      `largest account ${pct(c.top1Share)}, two largest ${pct(c.top2Share)}, ten largest ${pct(c.top10Share)} of it.`,
    "",
    ...table(
      ["account", "market", "notional"],
      c.largest.map((x) => [x.account, x.market, money(x.notionalUsd)]),
    ),
    "",
    "## Bad debt and fund drawdown per path",
    "",
    ...table(
      ["measure", "bad debt", "fund drawdown"],
      [
        ["mean", money(r.badDebt.mean), money(r.fundDrawdown.mean)],
        ["P(> 0)", pct(r.badDebt.probabilityPositive), pct(r.fundDrawdown.probabilityPositive)],
        ["VaR 99%", money(r.badDebt.var99), money(r.fundDrawdown.var99)],
        ["ES 99%", money(r.badDebt.es99), money(r.fundDrawdown.es99)],
        ["VaR 99.9%", money(r.badDebt.var999), money(r.fundDrawdown.var999)],
        ["ES 99.9%", money(r.badDebt.es999), money(r.fundDrawdown.es999)],
        ["max", money(r.badDebt.max), money(r.fundDrawdown.max)],
      ],
    ),
    "",
    `Probability the fund is depleted (a deficit reaches the loss policy): ${pct(r.probabilityFundDepleted)} per path.`,
    "",
    "## What reaches traders",
    "",
    ...table(
      ["policy", "P(path hits traders)", "mean per path", "max per path"],
      [
        ["ADL (ETH-USD)", pct(r.lossPolicy.probabilityAdl), money(r.lossPolicy.meanAdl), money(r.lossPolicy.maxAdl)],
        [
          "socialized (BTC-USD)",
          pct(r.lossPolicy.probabilitySocialized),
          money(r.lossPolicy.meanSocialized),
          money(r.lossPolicy.maxSocialized),
        ],
      ],
    ),
    "",
    ...policySection(r),
    "## Fund size",
    "",
    `- For at most ${pct(f.targetPerYear)} per year of a deficit reaching the loss policy (${pct(f.targetPerPath)} per ${s.horizonDays}-day path): ${money(f.fundForTarget)}.`,
    `- Cover-1 / Cover-2 (the one / two largest deficits under the 99.9% one-day move of each asset, in one gap): ${money(f.cover1)} / ${money(f.cover2)}.`,
    `- **Recommended: ${money(f.recommended)}** (the larger of the two).`,
    `- Every default under the same moves together (more than Cover-2 asks): ${money(f.allDefaults)}.`,
    `- 99.9% moves: down ${r.joint999.down.map((x) => pct(x - 1)).join(" / ")}, up ${r.joint999.up.map((x) => pct(x - 1)).join(" / ")} (${s.markets.map((m) => m.symbol).join(" / ")}).`,
    "",
    "## Scenarios",
    "",
    ...table(
      ["scenario", "bad debt", "fund drawn", "ADL", "socialized", "bankrupt accounts", "two largest deficits"],
      r.scenarios.map((x) => [
        x.name,
        money(x.badDebt),
        money(x.fundDrawn),
        money(x.deleveraged),
        money(x.socialized),
        String(x.bankruptcies),
        x.largestDeficits.map((d) => `${d.account} ${money(d.deficit)}`).join(", ") || "none",
      ]),
    ),
    "",
    `## Sensitivity (${s.sensitivityPaths} paths per row, same seed)`,
    "",
    "The fund that covers a path's bad debt with 99% and 99.9% probability (its VaR over the row's paths; with " +
      `${s.sensitivityPaths} paths the 99.9% figure is close to the worst path). Keeper latency is the blocks from an oracle update ` +
      `to the keeper's transactions; during a move the oracle steps ${pct(s.deviation)} every ${s.stepBlocks} blocks. ` +
      "The gap share is the part of each intraday leg that happens in one oracle update.",
    "",
    ...table(
      ["parameter", "value", "P(bad debt)", "P(loss policy)", "mean bad debt", "fund for 99%", "fund for 99.9%"],
      r.sensitivity.map((x) => [
        x.parameter,
        x.value,
        pct(x.probabilityBadDebt),
        pct(x.probabilityLossPolicy),
        money(x.meanBadDebt),
        money(x.fund99),
        money(x.fund999),
      ]),
    ),
    "",
    "## Backtest of the sizing model",
    "",
    "The paths come from GARCH(1,1)-t margins; its one-day VaR against each asset's realized daily losses " +
      "(full-sample parameters, variance filtered one day ahead), with Kupiec's proportion-of-failures test. " +
      "A p-value under 5% rejects the exceedance rate.",
    "",
    ...table(
      ["asset", "level", "days", "exceedances", "expected", "Kupiec LR", "p-value", "at 5%"],
      r.backtest.map((b) => [
        b.asset,
        pct(b.level),
        String(b.observations),
        String(b.exceedances),
        b.expected.toFixed(1),
        b.lr.toFixed(3),
        b.pValue.toFixed(4),
        b.pValue < 0.05 ? "rejected" : "not rejected",
      ]),
    ),
    "",
    ...contractSection("## Contract-backed paths", r.contractBacked),
    ...(r.contractBackedHaircut === undefined
      ? []
      : ["", ...contractSection("## Contract-backed paths, every market under haircut", r.contractBackedHaircut)]),
    "",
    "## Model simplifications",
    "",
    ...r.simplifications.map((x) => `- ${x}`),
    "",
  ];
  return lines.join("\n");
}

/** A difference in wei (18 decimals) as USD, and in wei when it is below a cent. */
function difference(wei: string): string {
  const d = BigInt(wei);
  return d === 0n ? "0" : d < 10n ** 16n ? `${wei} wei (18 decimals)` : money(Number(d / 10n ** 12n) / 1e6);
}

/** The same paths under each loss policy: what reaches traders, how, and the overshoot (computed, 0 by rule). */
function policySection(r: LabReport): string[] {
  if (r.policies.length === 0) return [];
  return [
    "## Loss policies side by side",
    "",
    `The same ${r.settings.paths} Monte Carlo paths (same seed, population and fund) with every market listed under each ` +
      "policy in turn. Taken from traders: ADL + socialized + haircut per path, from the receipts. Positions cut by ADL " +
      `count each account once per path; "makers or ≤ ${LOW_LEVERAGE}x" are the market makers (who hold the book's net, ` +
      `as a hedged desk would) and traders who opened at ${LOW_LEVERAGE}x or less. Overshoot = taken − (bad debt − fund ` +
      "paid), summed over the paths, in wei: 0 when every receipt balances.",
    "",
    ...table(
      [
        "policy",
        "P(traders hit)",
        "taken: mean",
        "VaR 99%",
        "ES 99%",
        "max",
        "positions cut by ADL",
        `of them makers or ≤ ${LOW_LEVERAGE}x`,
        "overshoot (wei)",
      ],
      r.policies.map((x) => [
        x.policy,
        pct(x.probabilityHit),
        money(x.taken.mean),
        money(x.taken.var99),
        money(x.taken.es99),
        money(x.taken.max),
        String(x.adlPositions),
        String(x.adlLowLeverage),
        x.overshootWei,
      ]),
    ),
    "",
  ];
}

/** A chain check: engine against chain per path, and the largest difference. */
function contractSection(head: string, c: ContractReport | { skipped: string }): string[] {
  if ("skipped" in c) return [head, "", `Not run: ${c.skipped}.`];
  const usdOf = (wad: string): string => money(Number(BigInt(wad) / 10n ** 12n) / 1e6);
  const drawn = (units: string): string => money(Number(units) / 1e6);
  return [
    head,
    "",
    `${c.paths} of the Monte Carlo paths (the first half of them, and the rest with the largest bad debt) again on the ` +
      "in-process Hardhat network: the population opened by signed orders on a fresh deployment once, evm_revert " +
      "between paths, the oracle moved to each point where the engine's keeper acted. On a *keeper* path the " +
      "project's keeper (`#keeper`, one signer) runs there until idle; on a *replay* path the engine keeper's calls " +
      "are sent as they are, in batches through a forwarder contract, and after each point the accounts near " +
      "maintenance are read to check that the project's keeper would find nothing left. Amounts from the receipts. " +
      `**${c.agreed} of ${c.paths} agree to the wei** (bad debt, fund paid and drawn, ADL, socialized, haircut, and every ` +
      `account's final equity); largest difference ${difference(c.largestDifference)}. ` +
      `Speed: ${c.pathsPerSecond.toFixed(3)} paths/s on chain (set-up ${c.setupSeconds.toFixed(1)} s, not counted).`,
    "",
    ...table(
      [
        "path",
        "run by",
        "keeper points",
        "bad debt engine / chain",
        "fund drawn engine / chain",
        "ADL engine / chain",
        "socialized engine / chain",
        "haircut engine / chain",
        "agree",
      ],
      c.rows.map((x) => [
        String(x.path),
        x.mode,
        String(x.keeperPoints),
        `${usdOf(x.engine.badDebt)} / ${usdOf(x.chain.badDebt)}`,
        `${drawn(x.engine.fundDrawn)} / ${drawn(x.chain.fundDrawn)}`,
        `${usdOf(x.engine.deleveraged)} / ${usdOf(x.chain.deleveraged)}`,
        `${usdOf(x.engine.socialized)} / ${usdOf(x.chain.socialized)}`,
        `${usdOf(x.engine.haircut)} / ${usdOf(x.chain.haircut)}`,
        x.largestDifference !== "0"
          ? `no: up to ${difference(x.largestDifference)}, ${x.equitiesDiffering} equities differ`
          : x.pointsLeftUndone > 0
            ? `no: keeper work left at ${x.pointsLeftUndone} points`
            : "to the wei",
      ]),
    ),
  ];
}

const escape = (t: string): string => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** report.html: the Markdown's headings, paragraphs and tables as HTML, with the charts' SVG inline. */
export function labHtml(r: LabReport, charts: { title: string; svg: string }[]): string {
  const body: string[] = [];
  let inTable = false;
  for (const line of labMarkdown(r).split("\n")) {
    const inline = escape(line).replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>");
    if (line.startsWith("|")) {
      const cells = line
        .slice(1, -1)
        .split("|")
        .map((x) => escape(x.trim()));
      if (cells.every((x) => x === "---")) continue;
      if (!inTable) {
        body.push("<table>", `<tr>${cells.map((x) => `<th>${x}</th>`).join("")}</tr>`);
        inTable = true;
      } else body.push(`<tr>${cells.map((x) => `<td>${x}</td>`).join("")}</tr>`);
      continue;
    }
    if (inTable) {
      body.push("</table>");
      inTable = false;
    }
    if (line.startsWith("## ")) body.push(`<h2>${inline.slice(3)}</h2>`);
    else if (line.startsWith("# ")) body.push(`<h1>${inline.slice(2)}</h1>`);
    else if (line.startsWith("- ")) body.push(`<p>• ${inline.slice(2)}</p>`);
    else if (line.trim() !== "") body.push(`<p>${inline}</p>`);
  }
  if (inTable) body.push("</table>");
  if (charts.length > 0) {
    body.push("<h2>Charts</h2>");
    for (const c of charts) body.push(`<figure>${c.svg}<figcaption>${escape(c.title)}</figcaption></figure>`);
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stress lab report</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right}</style>
</head><body>
${body.join("\n")}
</body></html>
`;
}
