import { formatUnitsExact, overshoot, sum, takenFromTraders, type LayerName, type LossEvent } from "#sdk";
import { amount, tokenUsd, usd } from "./format.js";
import type { SettleReport } from "./keeper.js";
import type { PolicyRow } from "./policies.js";
import type { InvariantResult } from "./solvency.js";
import type { PriceStep } from "./steps.js";

/** The demo's report: what happened, who paid, and whether the system stayed solvent. */

export interface MarketSetup {
  symbol: string;
  policy: string;
  longs: number;
  shorts: number;
  /** Open interest per side, 18 decimals. */
  openInterest: bigint;
}

export interface StepReport {
  step: PriceStep;
  /** Traders' health right after the move, before the keeper acts. */
  liquidatable: number;
  bankrupt: number;
  keeper: SettleReport;
  /**
   * Bad debt during the step: receipts resolved (count, shortfall) and what was paid toward deficits by the
   * step's events (fund draws, ADL losses, socialized charges), also for cases that a later step resolves.
   */
  badDebt: ReceiptTotals;
  /** Fund assets after the keeper settled, token units. */
  fundAssets: bigint;
}

export interface FundSnapshot {
  /** Token units. */
  assets: bigint;
  /** Fees set aside in the clearing house for the fund, 18 decimals. */
  pendingFees: bigint;
}

/** Sums over BadDebtResolved receipts, 18 decimals. */
export interface ReceiptTotals {
  receipts: number;
  shortfall: bigint;
  fundPaid: bigint;
  deleveraged: bigint;
  socialized: bigint;
  /** Taken from the other side's profit (policy haircut). */
  haircut: bigint;
}

/** One default layer over the run, token units: its size before the crash, what it paid, its size after. */
export interface LayerReport {
  layer: LayerName;
  /** First loss, members' fund: balance; stakers: the fund's assets; assessments: Σ what members may be asked. */
  before: bigint;
  paid: bigint;
  after: bigint;
}

/** The default layers in the demo (token units). */
export interface LayersReport {
  /** In the order they pay. */
  rows: LayerReport[];
  /** What the treasury put in the first-loss capital. */
  firstLossFunded: bigint;
  /** k: a member is assessed at most k × its contribution per period (18 decimals). */
  assessmentMultiple: bigint;
  members: { label: string; address: string; contribution: bigint; collateral: bigint }[];
  /** Per member assessed: Σ asked and Σ collected over the run. */
  assessed: { address: string; asked: bigint; collected: bigint }[];
}

export interface MarketTotals extends ReceiptTotals {
  symbol: string;
  policy: string;
}

export interface DemoReport {
  /** The collateral token's symbol: every amount in the report is in it. */
  symbol: string;
  options: { seed: string; accounts: number; crashPct: number };
  chainId: number;
  deploymentFile: string;
  setup: {
    traders: number;
    stakers: { label: string; stake: bigint }[];
    keepers: string[];
    markets: MarketSetup[];
    leverage: { min: number; max: number };
  };
  fundBefore: FundSnapshot;
  fundAfter: FundSnapshot;
  /** Null when the deployment has no default layers. */
  layers: LayersReport | null;
  steps: StepReport[];
  /** Liquidations of solvent accounts (step 1 of the waterfall). */
  liquidations: { count: number; keeperRewards: bigint; fundFees: bigint };
  lossEvents: LossEvent[];
  totals: MarketTotals[];
  reached: { liquidation: boolean; fundDraw: boolean; assessments: boolean; adl: boolean; socialization: boolean };
  solvency: InvariantResult[];
  /** The three loss policies on the same crash, each on its own deployment (scripts/demo/policies.ts). */
  policies: PolicyRow[];
  notChecked: string[];
  ok: boolean;
  durationMs: number;
  /** Address → readable name ("#12 short ETH-USD 4x", "keeper 1"). */
  labels: Record<string, string>;
}

const STEP_NAMES: Record<keyof DemoReport["reached"], string> = {
  liquidation: "liquidations of solvent accounts",
  fundDraw: "insurance-fund draws",
  assessments: "assessments on the clearing members",
  adl: "auto-deleveraging (ETH-USD)",
  socialization: "socialized loss (BTC-USD)",
};

/** The waterfall steps the run did not reach, by name. */
export function missedSteps(report: DemoReport): string[] {
  return (Object.keys(STEP_NAMES) as (keyof DemoReport["reached"])[])
    .filter((k) => !report.reached[k])
    .map((k) => STEP_NAMES[k]);
}

/** One line of progress for a price step; amounts in `symbol`, the collateral token. */
export function stepLine(s: StepReport, symbol: string): string {
  const a = s.keeper.actions;
  const n = (kind: keyof typeof a): number => a[kind].confirmed ?? 0;
  const extra = s.keeper.timeoutsWaited > 0 ? `, waited out the deleverage timeout ${s.keeper.timeoutsWaited}×` : "";
  const b = s.badDebt;
  const paid = b.fundPaid + takenFromTraders(b);
  const debt =
    b.receipts === 0 && paid === 0n
      ? "no bad debt"
      : `${b.receipts} bad debt${b.receipts === 1 ? "" : "s"} resolved; paid toward deficits in this step: ` +
        `fund ${usd(b.fundPaid)}, ADL ${usd(b.deleveraged)}, socialized ${usd(b.socialized)} ${symbol}`;
  return (
    `step ${s.step.index + 1} (${s.step.kind}, −${s.step.cumulativePct}%): ETH ${usd(s.step.prices.eth)}, ` +
    `BTC ${usd(s.step.prices.btc)}; ${s.liquidatable} liquidatable (${s.bankrupt} bankrupt) → keeper sent ` +
    `${n("liquidate")} liquidate, ${n("deleverage")} autoDeleverage, ${n("socialize")} socializeAfterTimeout in ` +
    `${s.keeper.cycles} cycle${s.keeper.cycles === 1 ? "" : "s"}${extra}; ${debt}; fund ${tokenUsd(s.fundAssets)} ${symbol}` +
    (s.keeper.settled ? "" : " — NOT SETTLED")
  );
}

/** The default layers: a row per layer (size before, paid, size after), then who was assessed. */
function layersSection(l: LayersReport | null, unit: string, name: (address: string) => string): string[] {
  if (l === null) return [];
  const members = l.members.map((m) => `${m.label} ${tokenUsd(m.contribution)}`).join(", ");
  return [
    "## Default layers",
    "",
    `The treasury put ${tokenUsd(l.firstLossFunded)} ${unit} in the first-loss capital; ${l.members.length} clearing ` +
      `members contributed (${members} ${unit}). Assessments: at most ` +
      `${formatUnitsExact(l.assessmentMultiple, 18)}× a member's contribution per period. ` +
      "Each layer pays only once the one above it is used up.",
    "",
    `| layer | before (${unit}) | paid | after |`,
    "| --- | ---: | ---: | ---: |",
    ...l.rows.map(
      (row) =>
        `| ${row.layer}${row.layer === "assessments" ? " (cap left)" : ""} | ${tokenUsd(row.before)} | ` +
        `${tokenUsd(row.paid)} | ${tokenUsd(row.after)} |`,
    ),
    `| total | | ${tokenUsd(sum(l.rows.map((row) => row.paid)))} | |`,
    "",
    ...l.assessed.map(
      (a) =>
        `- ${name(a.address)} assessed ${tokenUsd(a.asked)} ${unit}, paid ${tokenUsd(a.collected)} from its ` +
        `collateral${a.collected < a.asked ? ` (${tokenUsd(a.asked - a.collected)} uncollected: to the loss policy)` : ""}`,
    ),
    ...(l.assessed.length === 0 ? [] : [""]),
  ];
}

/** The whole report as Markdown (also what the console shows at the end). */
export function renderMarkdown(r: DemoReport): string {
  const name = (address: string): string => r.labels[address.toLowerCase()] ?? address;
  const unit = r.symbol;
  const lines: string[] = [];
  const push = (...more: string[]): void => {
    lines.push(...more);
  };
  push(
    "# Backstop demo report",
    "",
    `seed \`${r.options.seed}\`, ${r.options.accounts} traders, crash −${r.options.crashPct}%, chain ${r.chainId}, ` +
      `${(r.durationMs / 1000).toFixed(1)} s; deployment \`${r.deploymentFile}\``,
    "",
    "## Set-up",
    "",
    `${r.setup.traders} traders at ${r.setup.leverage.min}x–${r.setup.leverage.max}x, trading through signed orders; ` +
      `${r.setup.stakers.length} stakers (${r.setup.stakers.map((s) => `${s.label} ${tokenUsd(s.stake)}`).join(", ")} ${unit}); ` +
      `keepers ${r.setup.keepers.join(", ")}.`,
    "",
    "| market | loss policy | longs | shorts | open interest per side |",
    "| --- | --- | ---: | ---: | ---: |",
    ...r.setup.markets.map(
      (m) => `| ${m.symbol} | ${m.policy} | ${m.longs} | ${m.shorts} | ${amount(m.openInterest)} |`,
    ),
    "",
    "## Price steps",
    "",
    ...r.steps.map((s) => `- ${stepLine(s, unit)}`),
    "",
    "## Insurance fund",
    "",
    `- before the crash: ${tokenUsd(r.fundBefore.assets)} ${unit} staked, ${usd(r.fundBefore.pendingFees)} ${unit} of fees set aside`,
    `- after: ${tokenUsd(r.fundAfter.assets)} ${unit}, ${usd(r.fundAfter.pendingFees)} ${unit} of fees set aside`,
    `- paid out: ${usd(sum(r.lossEvents.map((e) => e.receipt.fundPaid)))} ${unit} toward deficits (a bankrupt ` +
      "position passes at the oracle price with no reward)",
    `- solvent liquidations: ${r.liquidations.count}, paying keepers ${usd(r.liquidations.keeperRewards)} ${unit} ` +
      `(discount) and the fund ${usd(r.liquidations.fundFees)} ${unit} (fees)`,
    "",
    ...layersSection(r.layers, unit, name),
    "## Bad debt by market",
    "",
    `| market | policy | receipts | shortfall (${unit}) | fund paid | ADL | socialized | haircut | overshoot |`,
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...r.totals.map(
      (t) =>
        `| ${t.symbol} | ${t.policy} | ${t.receipts} | ${usd(t.shortfall)} | ${usd(t.fundPaid)} | ` +
        `${usd(t.deleveraged)} | ${usd(t.socialized)} | ${usd(t.haircut)} | ${usd(overshoot(t))} |`,
    ),
    "",
    "Overshoot: what was taken from traders beyond the part of the shortfall the fund could not pay (ADL + " +
      "socialized + haircut − (shortfall − fund paid)); 0 by the contracts' rule.",
    "",
    "## Loss events (from the chain's events)",
    "",
  );
  if (r.lossEvents.length === 0) push("No account went bankrupt.", "");
  r.lossEvents.forEach((e, i) => {
    const t = e.receipt;
    const market = r.totals[t.marketId]?.symbol ?? `market ${t.marketId}`;
    push(
      `### ${i + 1}. ${name(t.account)} in ${market}, block ${t.blockNumber}`,
      "",
      `shortfall **${usd(t.shortfall)}** ${unit} = fund ${usd(t.fundPaid)} + ADL ${usd(t.deleveraged)} + ` +
        `socialized ${usd(t.socialized)} (BadDebtResolved, tx \`${t.txHash.slice(0, 10)}…\`)`,
      "",
    );
    for (const l of e.liquidations) {
      const symbol = r.totals[l.marketId]?.symbol ?? `market ${l.marketId}`;
      push(`- bankrupt position handed to ${name(l.liquidator)}: ${amount(l.size)} ${symbol} at ${usd(l.oraclePrice)}`);
    }
    if (e.caseOpened !== undefined) {
      push(
        `- deleverage case opened in block ${e.caseOpened.blockNumber}: deficit ${usd(e.caseOpened.shortfall)}; ` +
          `the fund could have paid ${usd(e.caseOpened.fundAvailable)} of it then (each ADL step first draws ` +
          "what the fund holds at that moment)",
      );
    }
    for (const d of e.fundDraws)
      push(`- insurance fund paid ${usd(d.amount)} toward the deficit (block ${d.blockNumber})`);
    if (e.layers.length > 0) {
      const parts = e.layers.map((d) => `${d.layer} ${tokenUsd(d.amount)}`).join(", ");
      const uncollected = sum(e.assessments.map((a) => a.asked - a.collected));
      push(
        `- of which the default layers (LayerDrawn): ${parts}` +
          (uncollected === 0n ? "" : `; ${tokenUsd(uncollected)} assessed but uncollected`),
      );
    }
    for (const s of e.adlSteps) {
      push(
        `- ADL: ${name(s.counterparty)} (score ${amount(s.score)}) closed ${amount(s.size)} at ${usd(s.price)}, ` +
          `gave up ${usd(s.loss)}`,
      );
    }
    if (e.socialization !== undefined) {
      const side = e.socialization.longSide ? "long" : "short";
      push(
        `- socialized ${usd(e.socialization.amount)} over every ${side} position: ` +
          `${amount(e.socialization.indexDelta, 6)} ${unit} per unit of size`,
      );
    }
    push("");
  });
  const missed = missedSteps(r);
  push(
    "## Waterfall steps reached",
    "",
    missed.length === 0
      ? "All of them: liquidations, insurance-fund draws down to assessments on the members, ADL in ETH-USD and " +
          "socialization in BTC-USD."
      : `Not reached in this run: ${missed.join(", ")}. (A larger --crash or another --seed changes that.)`,
    "",
    ...policiesSection(r.policies, unit),
    "## Solvency check",
    "",
    "| invariant | result | detail |",
    "| --- | --- | --- |",
    ...r.solvency.map((s) => `| ${s.name} | ${s.ok ? "ok" : "**FAILED**"} | ${s.detail} |`),
    "",
    `Not checked from outside: ${r.notChecked.join("; ")}.`,
    "",
    r.ok ? "**Solvency check passed.**" : "**Solvency check FAILED.**",
    "",
  );
  return lines.join("\n");
}

/** The per-policy table: amounts in the token with two decimals, except the overshoot, exact to the wei. */
export function policiesSection(rows: readonly PolicyRow[], unit: string): string[] {
  if (rows.length === 0) return [];
  return [
    "## The three loss policies on the same crash",
    "",
    "One fresh deployment per policy (both markets under it, no default layers), the same crash plan and price " +
      "steps, plus hedged traders (long ETH-USD, short BTC-USD at 1.2x). Shortfall: what the fund could not pay; " +
      "taken: ADL + socialized + haircut from the receipts; overshoot = taken − shortfall, to the wei; positions " +
      "closed: (account, market) pairs an ADL step cut; a hedge is broken when ADL cuts one of its legs; claims " +
      "outstanding: claimsTotals(0) issued − inflow (the shared claims pool; no isolated market here).",
    "",
    `| policy | shortfall (${unit}) | taken (${unit}) | overshoot (${unit}) | positions closed | hedges broken | ` +
      `claims outstanding (${unit}) |`,
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (p) =>
        `| ${p.policy} | ${usd(p.shortfall)} | ${usd(p.taken)} | ${formatUnitsExact(p.overshoot, 18)} | ` +
        `${p.positionsClosed} | ${p.hedgesBroken} of ${p.hedgedTraders} | ${usd(p.claimsOutstanding)} |`,
    ),
    "",
  ];
}
