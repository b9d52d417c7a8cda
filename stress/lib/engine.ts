// The scenario engine: one price path through an off-chain mirror of the contracts' loss waterfall,
// in bigint and to the wei. Margin and position math come from sdk/math (mirrors of PositionMath and
// LedgerLib.health); the waterfall steps below mirror contracts/libraries/LiquidationLogic.sol after
// issue 9 (no reward on a bankrupt account, the deficit charged before the hand-over, the fund paying
// deficits only). Each function names the Solidity function it mirrors.
import {
  abs,
  adlScore,
  mulDiv,
  mulDivCeil,
  mulDivFloor,
  mulWad,
  mulWadUp,
  notionalAt,
  rankCounterparties,
  SCALE,
  socialLossOwed,
  unrealizedPnl,
  WAD,
} from "#sdk";

import type { Holding, MarketSymbol } from "./population.js";

/** LiquidationLogic.MIN_REMAINING_NOTIONAL: a partial liquidation leaving less closes everything. */
export const MIN_REMAINING_NOTIONAL = 10n * WAD;

/** What the engine needs of a market: its loss policy and risk parameters (sdk/deploy/networks/local.ts). */
export interface EngineMarket {
  symbol: MarketSymbol;
  lossPolicy: "adl" | "socialized";
  maintenanceMarginRatio: bigint;
  liquidationDiscount: bigint;
  liquidationFeeRatio: bigint;
}

/** One account in the ledger mirror. Collateral in 18 decimals (the ledger's unit), like the notionals. */
export interface Account {
  id: string;
  market: number;
  collateral: bigint;
  size: bigint;
  openNotional: bigint;
  lastSocialLossIndex: bigint;
}

/** Ledger state of a run: accounts, per-market open interest and social-loss indexes, fees set aside, the fund. */
export interface Ledger {
  markets: readonly EngineMarket[];
  accounts: Account[];
  /** The protocol keeper: it takes liquidated positions over (capitalised so that it never fails margin). */
  keeper: Account[];
  longOpenInterest: bigint[];
  shortOpenInterest: bigint[];
  longSocialLossIndex: bigint[];
  shortSocialLossIndex: bigint[];
  /** LedgerLib.insuranceFees: liquidation fees set aside for the fund (18 decimals). */
  insuranceFees: bigint;
  /** InsuranceFund assets in the token's 6 decimals (floor 0 and an unbounded draw cap, as deployed locally). */
  fund: bigint;
}

/** What a path did to the fund and the traders. Wad amounts in 18 decimals, fund amounts in 6. */
export interface Outcome {
  /** Sum of the deficits of bankrupt accounts (BadDebtResolved.shortfall). */
  badDebt: bigint;
  /** Fees set aside plus fund money used for deficits. */
  fundPaid: bigint;
  /** Tokens taken out of the InsuranceFund (6 decimals). */
  fundDrawn: bigint;
  deleveraged: bigint;
  socialized: bigint;
  liquidations: number;
  bankruptcies: number;
  adlSteps: number;
  socializations: number;
  /** Each bankrupt account's deficit, for Cover-1 and Cover-2. */
  deficits: { account: string; deficit: bigint }[];
  /** When present, every call the keeper makes, in order, for replaying the path on the contracts. */
  log?: Action[];
}

/**
 * A keeper call as the contracts take it: `liquidate`, an `autoDeleverage` step against `counterparty`, an
 * `autoDeleverage` that the fund now covers (the caller takes the position over), or `socializeAfterTimeout`.
 */
export type Action =
  | { kind: "liquidate"; account: string; market: number; price: bigint }
  | { kind: "adl"; account: string; market: number; price: bigint; counterparty: string }
  | { kind: "adl-takeover" | "timeout"; account: string; market: number; price: bigint };

export function emptyOutcome(): Outcome {
  return {
    badDebt: 0n,
    fundPaid: 0n,
    fundDrawn: 0n,
    deleveraged: 0n,
    socialized: 0n,
    liquidations: 0,
    bankruptcies: 0,
    adlSteps: 0,
    socializations: 0,
    deficits: [],
  };
}

const KEEPER_COLLATERAL = 10n ** 15n * WAD;

/** Opens the population's positions at their entry prices (the fill's notional rounded down) in a fresh ledger. */
export function openLedger(markets: readonly EngineMarket[], holdings: readonly Holding[], fundUsd: bigint): Ledger {
  const index = new Map(markets.map((m, i) => [m.symbol, i]));
  const ledger: Ledger = {
    markets,
    accounts: [],
    keeper: markets.map((_, i) => account("keeper", i, KEEPER_COLLATERAL)),
    longOpenInterest: markets.map(() => 0n),
    shortOpenInterest: markets.map(() => 0n),
    longSocialLossIndex: markets.map(() => 0n),
    shortSocialLossIndex: markets.map(() => 0n),
    insuranceFees: 0n,
    fund: fundUsd,
  };
  for (const h of holdings) {
    const m = index.get(h.market);
    if (m === undefined) throw new Error(`market ${h.market} is not deployed`);
    const a = account(h.account, m, h.collateral * SCALE);
    applyFill(ledger, a, h.size, mulWad(abs(h.size), h.entryPrice), 0n);
    ledger.accounts.push(a);
  }
  return ledger;
}

function account(id: string, market: number, collateral: bigint): Account {
  return { id, market, collateral, size: 0n, openNotional: 0n, lastSocialLossIndex: 0n };
}

/** Deep copy, so one opened population serves every path. */
export function cloneLedger(l: Ledger): Ledger {
  return {
    ...l,
    accounts: l.accounts.map((a) => ({ ...a })),
    keeper: l.keeper.map((a) => ({ ...a })),
    longOpenInterest: [...l.longOpenInterest],
    shortOpenInterest: [...l.shortOpenInterest],
    longSocialLossIndex: [...l.longSocialLossIndex],
    shortSocialLossIndex: [...l.shortSocialLossIndex],
  };
}

const sideIndex = (l: Ledger, market: number, size: bigint): bigint =>
  size > 0n ? l.longSocialLossIndex[market] : l.shortSocialLossIndex[market];

/** Social loss the account owes and has not settled (LedgerLib.settle; funding is not modelled). */
export function pendingCharges(l: Ledger, a: Account): bigint {
  return a.size === 0n ? 0n : socialLossOwed(a.size, a.lastSocialLossIndex, sideIndex(l, a.market, a.size));
}

/** LedgerLib.settle: charges the social loss owed to collateral. */
export function settle(l: Ledger, a: Account): void {
  if (a.size === 0n) return;
  const index = sideIndex(l, a.market, a.size);
  a.collateral -= socialLossOwed(a.size, a.lastSocialLossIndex, index);
  a.lastSocialLossIndex = index;
}

/** LedgerLib.health for a one-market account: equity and maintenance margin at `price`. */
export function health(l: Ledger, a: Account, price: bigint): { equity: bigint; maintenanceMargin: bigint } {
  const equity = a.collateral + unrealizedPnl(a.size, a.openNotional, price) - pendingCharges(l, a);
  const maintenanceMargin =
    a.size === 0n ? 0n : mulWadUp(notionalAt(a.size, price), l.markets[a.market].maintenanceMarginRatio);
  return { equity, maintenanceMargin };
}

/** PositionMath.applyFill: new size, cost basis and the PnL a fill realizes. */
export function positionFill(
  size: bigint,
  openNotional: bigint,
  sizeDelta: bigint,
  notional: bigint,
): { size: bigint; openNotional: bigint; realizedPnl: bigint } {
  const signedNotional = sizeDelta > 0n ? notional : -notional;
  const newSize = size + sizeDelta;
  if (size === 0n || size > 0n === sizeDelta > 0n) {
    return { size: newSize, openNotional: openNotional + signedNotional, realizedPnl: 0n };
  }
  const absSize = abs(size);
  const absDelta = abs(sizeDelta);
  if (absDelta <= absSize) {
    const closed = mulDivCeil(openNotional, absDelta, absSize);
    return { size: newSize, openNotional: openNotional - closed, realizedPnl: -signedNotional - closed };
  }
  const closingPart = (notional * absSize) / absDelta;
  const signedClosing = sizeDelta > 0n ? closingPart : -closingPart;
  return { size: newSize, openNotional: signedNotional - signedClosing, realizedPnl: -signedClosing - openNotional };
}

/** LedgerLib.applyFill: settle, move the position, realize PnL less `fee`, update open interest. */
export function applyFill(l: Ledger, a: Account, sizeDelta: bigint, notional: bigint, fee: bigint): void {
  settle(l, a);
  const before = a.size;
  const r = positionFill(a.size, a.openNotional, sizeDelta, notional);
  a.size = r.size;
  a.openNotional = r.openNotional;
  if (r.size !== 0n && (before === 0n || before > 0n !== r.size > 0n))
    a.lastSocialLossIndex = sideIndex(l, a.market, r.size);
  a.collateral += r.realizedPnl - fee;
  const m = a.market;
  if (before > 0n) l.longOpenInterest[m] -= before;
  if (before < 0n) l.shortOpenInterest[m] += before;
  if (r.size > 0n) l.longOpenInterest[m] += r.size;
  if (r.size < 0n) l.shortOpenInterest[m] -= r.size;
}

/** LiquidationLogic._availableForDraw: fees set aside plus what the fund can pay, in 18 decimals. */
export const availableForDraw = (l: Ledger): bigint => l.insuranceFees + l.fund * SCALE;

/** LiquidationLogic._drawFund: fees set aside first, then whole token units from the fund (InsuranceFund.draw). */
export function drawFund(l: Ledger, amount: bigint, out: Outcome): bigint {
  if (amount === 0n) return 0n;
  let pot = l.insuranceFees;
  let paid = pot < amount ? pot : amount;
  pot -= paid;
  if (paid < amount) {
    const asked = (amount - paid + SCALE - 1n) / SCALE;
    const tokens = asked < l.fund ? asked : l.fund;
    l.fund -= tokens;
    out.fundDrawn += tokens;
    const drawn = tokens * SCALE;
    const used = drawn < amount - paid ? drawn : amount - paid;
    pot += drawn - used;
    paid += used;
  }
  l.insuranceFees = pot;
  return paid;
}

/** LiquidationLogic._penalty: reward (down) and fee (up) on `notional`, scaled to the equity together. */
export function penalty(m: EngineMarket, notional: bigint, equity: bigint): { reward: bigint; fee: bigint } {
  const reward = mulWad(notional, m.liquidationDiscount);
  const fee = mulWadUp(notional, m.liquidationFeeRatio);
  if (reward + fee <= equity) return { reward, fee };
  const scaled = mulDiv(equity, m.liquidationDiscount, m.liquidationDiscount + m.liquidationFeeRatio);
  return { reward: scaled, fee: equity - scaled };
}

/** LiquidationLogic._sizeRestoringMaintenance. */
export function sizeRestoringMaintenance(
  m: EngineMarket,
  price: bigint,
  h: { equity: bigint; maintenanceMargin: bigint },
  positionAbs: bigint,
): bigint {
  const perUnit = m.maintenanceMarginRatio - m.liquidationDiscount - m.liquidationFeeRatio;
  if (perUnit <= 0n) return positionAbs;
  const needed = mulDiv(h.maintenanceMargin - h.equity, WAD * WAD, price * perUnit, true);
  return needed < positionAbs ? needed : positionAbs;
}

/** LiquidationLogic._handOverTerms: the account's size change and the hand-over notional. */
export function handOverTerms(
  size: bigint,
  q: bigint,
  price: bigint,
  reward: bigint,
): { delta: bigint; notional: bigint } {
  return size > 0n
    ? { delta: -q, notional: mulWadUp(q, price) - reward }
    : { delta: q, notional: mulWad(q, price) + reward };
}

function handOver(l: Ledger, a: Account, q: bigint, price: bigint, reward: bigint, fee: bigint): void {
  const { delta, notional } = handOverTerms(a.size, q, price, reward);
  applyFill(l, a, delta, notional, fee);
  applyFill(l, l.keeper[a.market], -delta, notional, 0n);
}

/** LiquidationLogic._socialize: raises the side's index by ⌈amount/OI⌉ per unit. */
function socialize(l: Ledger, market: number, longSide: boolean, amount: bigint): void {
  const oi = longSide ? l.longOpenInterest[market] : l.shortOpenInterest[market];
  if (oi === 0n) throw new Error(`no open interest to charge on the ${longSide ? "long" : "short"} side`);
  const perUnit = mulDiv(amount, WAD, oi, true);
  if (longSide) l.longSocialLossIndex[market] += perUnit;
  else l.shortSocialLossIndex[market] += perUnit;
}

/**
 * LiquidationLogic._realizeDeficit then _handOver (together _takeOver): the deficit the whole hand-over at the
 * oracle will leave, paid by the fund and then socialized over the opposite side as it stands, before the
 * position moves. `deleveraged` is what ADL steps already covered in an open case (part of the shortfall).
 */
function takeOver(l: Ledger, a: Account, price: bigint, out: Outcome, deleveraged: bigint): void {
  settle(l, a);
  const { delta, notional } = handOverTerms(a.size, abs(a.size), price, 0n);
  const collateral = a.collateral + positionFill(a.size, a.openNotional, delta, notional).realizedPnl;
  const deficit = collateral < 0n ? -collateral : 0n;
  const paid = drawFund(l, deficit, out);
  a.collateral += paid;
  const remainder = deficit - paid;
  if (remainder !== 0n) {
    socialize(l, a.market, a.size < 0n, remainder);
    a.collateral += remainder;
    out.socialized += remainder;
    out.socializations += 1;
  }
  out.fundPaid += paid;
  recordDeficit(out, a.id, deficit + deleveraged);
  if (a.size !== 0n) handOver(l, a, abs(a.size), price, 0n, 0n);
}

function recordDeficit(out: Outcome, account: string, deficit: bigint): void {
  if (deficit === 0n) return;
  out.badDebt += deficit;
  out.deficits.push({ account, deficit });
}

/**
 * LiquidationLogic.autoDeleverage, run by the keeper right after the case opens, at the same oracle price:
 * counterparties in descending ADL score (sdk/math/adl.ts), each giving up ⌊(D − A)·q/size⌋ (_deleverageStep,
 * _deleverageTerms; one whose loss would exceed its profit or equity is skipped, as the contract reverts).
 * What is left when no counterparty can take more goes through socializeAfterTimeout (_takeOver).
 */
function autoDeleverage(l: Ledger, a: Account, price: bigint, out: Outcome): void {
  const m = a.market;
  const candidates = rankCounterparties(
    l.accounts
      .filter((c) => c !== a && c.market === m && c.size !== 0n && c.size > 0n !== a.size > 0n)
      .map((c) => {
        const pnl = unrealizedPnl(c.size, c.openNotional, price);
        const equity = health(l, c, price).equity;
        const collateral = c.collateral - pendingCharges(l, c);
        return {
          account: c.id,
          ref: c,
          unrealizedPnl: pnl,
          notional: notionalAt(c.size, price),
          score: adlScore({ unrealizedPnl: pnl, collateral, notional: notionalAt(c.size, price), equity }),
        };
      }),
    () => false,
  );
  let deleveraged = 0n;
  for (const { ref: c } of candidates) {
    settle(l, a);
    const deficit = -health(l, a, price).equity;
    const available = availableForDraw(l);
    if (available >= deficit) break;
    settle(l, c);
    const otherPnl = unrealizedPnl(c.size, c.openNotional, price);
    if (otherPnl <= 0n) continue;
    const accountAbs = abs(a.size);
    const otherAbs = abs(c.size);
    const q = accountAbs < otherAbs ? accountAbs : otherAbs;
    const owed = deficit - available;
    const loss = q === accountAbs ? owed : mulDiv(owed, q, accountAbs);
    const profit = mulDiv(otherPnl, q, otherAbs);
    const otherEquity = health(l, c, price).equity;
    const cap = otherEquity <= 0n ? 0n : profit < otherEquity ? profit : otherEquity;
    if (loss > cap) continue;
    const closing = closingNotional(a.size, q, price);
    const notional = a.size > 0n ? closing + loss : closing - loss;
    const delta = a.size > 0n ? -q : q;
    applyFill(l, a, delta, notional, 0n);
    applyFill(l, c, -delta, notional, 0n);
    deleveraged += loss;
    out.deleveraged += loss;
    out.adlSteps += 1;
    out.log?.push({ kind: "adl", account: a.id, market: m, price, counterparty: c.id });
    if (a.size === 0n) break;
  }
  if (a.size !== 0n) {
    settle(l, a);
    const covered = availableForDraw(l) >= -health(l, a, price).equity;
    out.log?.push({ kind: covered ? "adl-takeover" : "timeout", account: a.id, market: m, price });
  }
  // The last step leaves the account flat owing what the fund can pay (_realizeDeficit); a fund refilled or an
  // ADL that ran out of counterparties ends in _takeOver (liquidate again, or socializeAfterTimeout).
  takeOver(l, a, price, out, deleveraged);
}

/** PositionMath.closingNotional: the notional that leaves the position's mark-to-market value unchanged. */
export function closingNotional(size: bigint, q: bigint, price: bigint): bigint {
  const rest = size > 0n ? size - q : size + q;
  return abs(mulDivFloor(size, price, WAD) - mulDivFloor(rest, price, WAD));
}

/**
 * LiquidationLogic.liquidate by the keeper for the account's whole position. Returns false when the account
 * is not liquidatable at `price` (the contract reverts NotLiquidatable).
 */
export function liquidate(l: Ledger, a: Account, price: bigint, out: Outcome): boolean {
  if (a.size === 0n) return false;
  settle(l, a);
  const h = health(l, a, price);
  if (h.equity >= h.maintenanceMargin) return false;
  const m = l.markets[a.market];
  out.liquidations += 1;
  out.log?.push({ kind: "liquidate", account: a.id, market: a.market, price });
  if (h.equity >= 0n) {
    // _liquidateSolvent: close what restores maintenance margin, all if the rest would be dust.
    const positionAbs = abs(a.size);
    let q = sizeRestoringMaintenance(m, price, h, positionAbs);
    if (mulWad(positionAbs - q, price) < MIN_REMAINING_NOTIONAL) q = positionAbs;
    const { reward, fee } = penalty(m, mulWad(q, price), h.equity);
    l.insuranceFees += fee;
    handOver(l, a, q, price, reward, fee);
    return true;
  }
  // _liquidateBankrupt on the account's last (only) position.
  out.bankruptcies += 1;
  if (m.lossPolicy === "adl" && availableForDraw(l) < -h.equity) autoDeleverage(l, a, price, out);
  else takeOver(l, a, price, out, 0n);
  return true;
}
