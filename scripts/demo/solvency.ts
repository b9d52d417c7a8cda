import { WAD, groupLossEvents, layerTotals, sum, takenFromTraders } from "#sdk";
import type { SolvencyInput } from "./state.js";

/**
 * The invariants of DESIGN.md that can be checked from outside the contracts, over state and events read from
 * the chain. Pure: the demo's test feeds it broken inputs to see each check fail.
 */

export interface InvariantResult {
  name: string;
  ok: boolean;
  /** The numbers compared, or what broke it. */
  detail: string;
}

/** Invariants of the design that this check cannot see from outside, and where they are tested instead. */
export const NOT_CHECKED_HERE = [
  "zero sum of realized PnL and funding (needs every fill's PnL; the Solidity invariant tests check it)",
  "nobody withdraws below initial margin (nobody withdraws in the demo; test/contracts/collateral.test.ts checks it)",
];

export function checkSolvency(input: SolvencyInput): InvariantResult[] {
  return [
    backsEquity(input),
    backsPositiveEquity(input),
    tokenConservation(input),
    fundAccounting(input),
    layersAccounting(input),
    layerDrawsMatchSources(input),
    fundSharesBacked(input),
    openInterestBalanced(input),
    openInterestMatchesPositions(input),
    receiptsAddUp(input),
    fundDrawsMatchReceipts(input),
    fundPaysNoReward(input),
    adlLossesMatchReceipts(input),
    socializedMatchesReceipts(input),
    adlWithinProfit(input),
    adlInScoreOrder(input),
    socializedPerUnit(input),
    noNegativeCollateral(input),
    badDebtResolved(input),
  ];
}

/** The failed ones, for the exit status. */
export function failures(results: readonly InvariantResult[]): InvariantResult[] {
  return results.filter((r) => !r.ok);
}

function result(name: string, problems: string[], okDetail: string): InvariantResult {
  return problems.length === 0
    ? { name, ok: true, detail: okDetail }
    : {
        name,
        ok: false,
        detail: problems.slice(0, 3).join("; ") + (problems.length > 3 ? `; … ${problems.length} in all` : ""),
      };
}

function short(address: string): string {
  return `${address.slice(0, 8)}…`;
}

/** Solvency (1): token balance × scale − fees held − Σ equity ≥ 0 (DESIGN-NOTES: stated on equity). */
function backsEquity({ state }: SolvencyInput): InvariantResult {
  const held = state.clearingHouseBalance * state.scale - state.insuranceFees - state.protocolFees;
  const equity = sum(state.accounts.map((a) => a.equity));
  const margin = held - equity;
  return result(
    "clearing house balance backs Σ equity + fees",
    margin < 0n ? [`balance − fees − Σ equity = ${margin} < 0`] : [],
    `surplus ${margin} (18 decimals)`,
  );
}

/** Solvency (1): with no bankrupt account, balance ≥ Σ positive equity + fees. */
function backsPositiveEquity({ state }: SolvencyInput): InvariantResult {
  const name = "clearing house balance backs Σ positive equity + fees";
  if (state.accounts.some((a) => a.bankrupt)) {
    return { name, ok: true, detail: "not applicable: an account is bankrupt (see 'bad debt resolved')" };
  }
  const owed =
    sum(state.accounts.map((a) => (a.equity > 0n ? a.equity : 0n))) + state.insuranceFees + state.protocolFees;
  const balance = state.clearingHouseBalance * state.scale;
  return result(name, balance < owed ? [`balance ${balance} < owed ${owed}`] : [], `surplus ${balance - owed}`);
}

/**
 * Every token in the clearing house, the fund and the default layers came in through a deposit, a stake, the
 * treasury's first-loss capital or a member's contribution, and is still there.
 */
function tokenConservation({ state, events }: SolvencyInput): InvariantResult {
  const f = events.flows;
  const into = f.deposited + f.staked + f.firstLossFunded + f.contributed;
  const expected = into - f.withdrawn - f.protocolFeesWithdrawn - f.unstaked - f.membersLeft;
  const actual = state.clearingHouseBalance + state.fundBalance + state.layersBalance;
  return result(
    "tokens in = tokens held (clearing house + fund + layers)",
    actual !== expected
      ? [`held ${actual} ≠ deposits + stakes + first loss + contributions − outflows ${expected}`]
      : [],
    `${actual} token units`,
  );
}

/**
 * Solvency (1), the fund: balance = stakes + fee income − draws − unstakes, to the unit. The fee income is the
 * swept fees, or with layers the part of them the layers passed on (IncomeSplit.toStakers).
 */
function fundAccounting({ state, events }: SolvencyInput): InvariantResult {
  const f = events.flows;
  const income = state.hasLayers ? f.toStakers : f.swept;
  const expected = f.staked + income - f.drawn - f.unstaked;
  return result(
    "fund balance = stakes + fee income − draws − unstakes",
    state.fundBalance !== expected ? [`balance ${state.fundBalance} ≠ ${expected}`] : [],
    `${state.fundBalance} = ${f.staked} + ${income} − ${f.drawn} − ${f.unstaked}`,
  );
}

/**
 * The default layers' balance = first-loss funding + contributions + swept fees − what went on to the stakers −
 * what the first loss and the members' fund paid − what leaving members took. What the stakers' layer and the
 * assessments pay only passes through (fund → layers → clearing house; clearing house → layers → clearing house).
 */
function layersAccounting({ state, events }: SolvencyInput): InvariantResult {
  const name = "layers balance = first loss + contributions + fees − to stakers − paid − left";
  if (!state.hasLayers) return { name, ok: true, detail: "not applicable: no default layers" };
  const f = events.flows;
  const paid = layerTotals(events.layerDraws);
  const expected =
    f.firstLossFunded +
    f.contributed +
    f.swept -
    f.toStakers -
    paid["first loss"] -
    paid["members' fund"] -
    f.membersLeft;
  return result(
    name,
    state.layersBalance !== expected ? [`balance ${state.layersBalance} ≠ ${expected}`] : [],
    `${state.layersBalance} token units`,
  );
}

/** The stakers' layer paid what the fund's Drawn events say; the assessments' layer what the members paid. */
function layerDrawsMatchSources({ state, events }: SolvencyInput): InvariantResult {
  const name = "stakers' layer = fund draws, assessments' layer = Σ collected";
  if (!state.hasLayers) return { name, ok: true, detail: "not applicable: no default layers" };
  const paid = layerTotals(events.layerDraws);
  const collected = sum(events.assessments.map((a) => a.collected));
  const problems: string[] = [];
  if (paid.stakers !== events.flows.drawn) problems.push(`stakers ${paid.stakers} ≠ fund draws ${events.flows.drawn}`);
  if (paid.assessments !== collected) problems.push(`assessments ${paid.assessments} ≠ collected ${collected}`);
  return result(name, problems, `stakers ${paid.stakers}, assessments ${paid.assessments} token units`);
}

/** Solvency (1): the fund's balance backs its shares. */
function fundSharesBacked({ state }: SolvencyInput): InvariantResult {
  return result(
    "fund balance backs its shares",
    state.fundSharesValue > state.fundBalance ? [`shares worth ${state.fundSharesValue} > ${state.fundBalance}`] : [],
    `shares worth ${state.fundSharesValue} ≤ balance ${state.fundBalance}`,
  );
}

/** Invariant 2: long open interest = short open interest in every market. */
function openInterestBalanced({ state }: SolvencyInput): InvariantResult {
  const problems = state.markets
    .filter((m) => m.long !== m.short)
    .map((m) => `market ${m.marketId}: long ${m.long} ≠ short ${m.short}`);
  return result("long OI = short OI", problems, state.markets.map((m) => `market ${m.marketId}: ${m.long}`).join(", "));
}

/** Invariant 2: the open interest is the sum of the positions. */
function openInterestMatchesPositions({ state }: SolvencyInput): InvariantResult {
  const problems: string[] = [];
  for (const m of state.markets) {
    const sizes = state.accounts.flatMap((a) =>
      a.positions.filter((p) => p.marketId === m.marketId).map((p) => p.size),
    );
    const longs = sum(sizes.filter((s) => s > 0n));
    const shorts = -sum(sizes.filter((s) => s < 0n));
    if (longs !== m.long) problems.push(`market ${m.marketId}: Σ long sizes ${longs} ≠ long OI ${m.long}`);
    if (shorts !== m.short) problems.push(`market ${m.marketId}: Σ short sizes ${shorts} ≠ short OI ${m.short}`);
  }
  return result("OI = Σ position sizes", problems, `${state.accounts.length} accounts`);
}

/** Invariant 1: every receipt's shortfall = fundPaid + deleveraged + socialized + haircut, to the wei. */
function receiptsAddUp({ events }: SolvencyInput): InvariantResult {
  const problems = events.receipts
    .filter((r) => r.shortfall !== r.fundPaid + takenFromTraders(r))
    .map(
      (r) => `${short(r.account)}: ${r.shortfall} ≠ ${r.fundPaid} + ${r.deleveraged} + ${r.socialized} + ${r.haircut}`,
    );
  return result("shortfall = fund + ADL + socialized (per receipt)", problems, `${events.receipts.length} receipts`);
}

function fundDrawsMatchReceipts({ events }: SolvencyInput): InvariantResult {
  const problems = groupLossEvents(events)
    .filter((e) => sum(e.fundDraws.map((d) => d.amount)) !== e.receipt.fundPaid)
    .map(
      (e) =>
        `${short(e.receipt.account)}: draws ${sum(e.fundDraws.map((d) => d.amount))} ≠ fundPaid ${e.receipt.fundPaid}`,
    );
  return result("fund draws = receipt's fundPaid", problems, `${events.fundDraws.length} draws`);
}

/** Every fund draw goes to the bankrupt account itself: a bankrupt liquidation pays its caller no reward. */
function fundPaysNoReward({ events }: SolvencyInput): InvariantResult {
  const problems = events.fundDraws
    .filter((d) => d.recipient !== d.account)
    .map((d) => `${short(d.account)}: ${d.amount} drawn for ${short(d.recipient)}`);
  return result("the fund pays deficits only, never a reward", problems, `${events.fundDraws.length} draws`);
}

function adlLossesMatchReceipts({ events }: SolvencyInput): InvariantResult {
  const problems = groupLossEvents(events)
    .filter((e) => sum(e.adlSteps.map((s) => s.loss)) !== e.receipt.deleveraged)
    .map(
      (e) => `${short(e.receipt.account)}: Σ losses ${sum(e.adlSteps.map((s) => s.loss))} ≠ ${e.receipt.deleveraged}`,
    );
  return result("Σ ADL losses = receipt's deleveraged", problems, `${events.adlSteps.length} ADL steps`);
}

function socializedMatchesReceipts({ events }: SolvencyInput): InvariantResult {
  const problems: string[] = [];
  for (const e of groupLossEvents(events)) {
    const amount = e.socialization?.amount ?? 0n;
    const perUnit = e.socialization?.indexDelta ?? 0n;
    if (amount !== e.receipt.socialized || perUnit !== e.receipt.socializedPerUnit) {
      problems.push(`${short(e.receipt.account)}: socialized ${amount}/${perUnit} ≠ receipt ${e.receipt.socialized}`);
    }
  }
  const charged = events.socializations.length;
  return result("socialized charge = receipt's socialized", problems, `${charged} socializations`);
}

/** Invariant 5: ADL never takes more than the counterparty's unrealized profit; its score was positive. */
function adlWithinProfit({ events, adlProfitBefore }: SolvencyInput): InvariantResult {
  const problems: string[] = [];
  events.adlSteps.forEach((s, i) => {
    const profit = adlProfitBefore[i];
    if (profit === undefined) problems.push(`step ${i}: no profit read`);
    else if (s.loss > profit) problems.push(`${short(s.counterparty)}: loss ${s.loss} > profit ${profit}`);
    if (s.score <= 0n) problems.push(`${short(s.counterparty)}: score ${s.score} not positive`);
  });
  return result("ADL loss ≤ counterparty's unrealized profit", problems, `${events.adlSteps.length} steps`);
}

/** Counterparties are taken in descending ADL score within each case (the score is in the event for this). */
function adlInScoreOrder({ events }: SolvencyInput): InvariantResult {
  const problems: string[] = [];
  for (const e of groupLossEvents(events)) {
    e.adlSteps.forEach((s, i) => {
      if (i > 0 && s.score > e.adlSteps[i - 1].score) {
        problems.push(`${short(e.receipt.account)}: step ${i} score ${s.score} > previous ${e.adlSteps[i - 1].score}`);
      }
    });
  }
  return result("ADL counterparties in descending score", problems, "every case");
}

/** Invariant 5: the charge per unit is the amount over the charged side's open interest, rounded up. */
function socializedPerUnit({ events, chargedOpenInterest }: SolvencyInput): InvariantResult {
  const problems: string[] = [];
  events.socializations.forEach((s, i) => {
    const oi = chargedOpenInterest[i];
    if (oi === undefined || oi === 0n) {
      problems.push(`socialization ${i}: no open interest read`);
      return;
    }
    const expected = (s.amount * WAD + oi - 1n) / oi;
    if (s.indexDelta !== expected)
      problems.push(`market ${s.marketId}: per unit ${s.indexDelta} ≠ ⌈${s.amount}/${oi}⌉`);
  });
  return result(
    "socialized per unit = ⌈amount / OI of the charged side⌉",
    problems,
    `${events.socializations.length} charges`,
  );
}

/** Invariant 4: no flat account has negative collateral unless its deleverage case is open. */
function noNegativeCollateral({ state }: SolvencyInput): InvariantResult {
  const problems = state.accounts
    .filter((a) => a.positions.length === 0 && !a.openCase && a.collateral < 0n)
    .map((a) => `${short(a.account)}: collateral ${a.collateral}`);
  return result(
    "no negative collateral on flat accounts without a case",
    problems,
    `${state.accounts.length} accounts`,
  );
}

/** Invariant 6: resolution finished: no open case, no bankrupt account left. */
function badDebtResolved({ state }: SolvencyInput): InvariantResult {
  const problems: string[] = [];
  if (state.openDeleverageCases !== 0n) problems.push(`${state.openDeleverageCases} deleverage cases open`);
  const bankrupt = state.accounts.filter((a) => a.bankrupt);
  if (bankrupt.length > 0) problems.push(`${bankrupt.length} accounts bankrupt, e.g. ${short(bankrupt[0].account)}`);
  return result("bad debt resolved (no open case, no bankrupt account)", problems, "none left");
}
