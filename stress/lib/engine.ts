// The scenario engine: one price path through an off-chain mirror of the contracts' loss waterfall,
// in bigint and to the wei. Margin and position math come from sdk/math (mirrors of PositionMath and
// LedgerLib.health); the waterfall steps below mirror contracts/libraries/LiquidationLogic.sol after
// issue 9 (no reward on a bankrupt account, the deficit charged before the hand-over, the fund paying
// deficits only) and issue 10's policy "haircut" (haircut.ts). Each function names the Solidity function it mirrors.
import {
  abs,
  adlScore,
  entryBucket,
  // PositionMath.applyFill: new size, cost basis and the PnL a fill realizes (this file's applyFill is LedgerLib's).
  applyFill as positionFill,
  mulDiv,
  mulDivFloor,
  mulWad,
  mulWadUp,
  notionalAt,
  SCALE,
  socialLossOwed,
  unrealizedPnl,
  WAD,
  hardhat,
} from "#sdk";

import {
  chargeHaircut,
  costBasis,
  haircutOwed as owedOnSide,
  newSide,
  settleHaircut,
  snapHaircut,
  winnersProfit,
  type HaircutSide,
} from "./haircut.js";
import type { Holding, MarketSymbol } from "./population.js";

/** LiquidationLogic.MIN_REMAINING_NOTIONAL: a partial liquidation leaving less closes everything. */
export const MIN_REMAINING_NOTIONAL = 10n * WAD;

/**
 * The lab's liquidation buffer (MarketParams.liquidationBuffer), 25%: a partial liquidation restores 1.25 ×
 * maintenance, as venues restore a margin above maintenance, so that a sliding position is not liquidated again at
 * every 0.5% step (the deployed local markets keep 0; the lab deploys its own). `--liquidation-buffer` sets it.
 */
export const LAB_LIQUIDATION_BUFFER = WAD / 4n;

/** The contracts' loss policies (sdk LossPolicyName). */
export type LossPolicy = "adl" | "socialized" | "haircut";
export const LOSS_POLICIES: readonly LossPolicy[] = ["adl", "socialized", "haircut"];

/** What the engine needs of a market: its loss policy and risk parameters (sdk/deploy/networks/local.ts). */
export interface EngineMarket {
  symbol: MarketSymbol;
  lossPolicy: LossPolicy;
  maintenanceMarginRatio: bigint;
  liquidationDiscount: bigint;
  liquidationFeeRatio: bigint;
  /** MarketParams.liquidationBuffer: a partial liquidation restores maintenance × (1 + buffer). */
  liquidationBuffer: bigint;
  /** Trading fees of the opening fills (0 when absent). */
  makerFeeRatio?: bigint;
  takerFeeRatio?: bigint;
}

/** One account in the ledger mirror. Collateral in 18 decimals (the ledger's unit), like the notionals. */
export interface Account {
  id: string;
  market: number;
  collateral: bigint;
  size: bigint;
  openNotional: bigint;
  lastSocialLossIndex: bigint;
  /** Haircut markets: the position's snapshot (HaircutSnapshot: Σ f·P, Σ f of its bucket, the side's charge count). */
  haircutPrice: bigint;
  haircutRate: bigint;
  haircutCharges: number;
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
  /** Oracle price of each market now (18 decimals); the keeper's cross-margin equity reads the other market's. */
  prices: bigint[];
  /** Open deleverage cases by account id (LedgerLib.deleverageCases). */
  cases: Map<string, DeleverageCase>;
  /** Haircut state per market, [0] long side, [1] short side (Ledger.haircutSides); unused in other markets. */
  haircut: HaircutSide[][];
}

/** An open ADL case: opened by `liquidate`, closed by the last `autoDeleverage` step or `socializeAfterTimeout`. */
export interface DeleverageCase {
  market: number;
  longCounterparties: boolean;
  /** What ADL steps have taken from counterparties so far (part of the receipt's shortfall). */
  deleveraged: bigint;
  /** Past `deleverageTimeout`: `socializeAfterTimeout` is allowed. */
  ready: boolean;
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
  /** Taken from the other side's winners in haircut markets (BadDebtResolved.haircut). */
  haircut: bigint;
  liquidations: number;
  bankruptcies: number;
  adlSteps: number;
  socializations: number;
  /** Haircut charges (ProfitHaircut events). */
  haircuts: number;
  /** Accounts whose position an ADL step cut, each once (the keeper's id included when it was one). */
  adlCounterparties: string[];
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
    haircut: 0n,
    liquidations: 0,
    bankruptcies: 0,
    adlSteps: 0,
    socializations: 0,
    haircuts: 0,
    adlCounterparties: [],
    deficits: [],
  };
}

/** Collateral of the protocol keeper (10^12 USD, 18 decimals): its margin never binds. The chain run deposits the same. */
export const KEEPER_COLLATERAL = 10n ** 12n * WAD;

/** One opening fill: `long` (the maker, buying) and `short` (the taker) trade `size` at `price`. */
export interface OpeningFill {
  market: number;
  long: string;
  short: string;
  size: bigint;
  price: bigint;
}

/**
 * The fills that open the population on chain: per market, longs and shorts in file order matched two by two
 * (each fill the smaller of the two remainders). Undefined when a market's entry prices differ or its sides do not
 * balance: then no fill can give both sides their price, and the population opens one account at a time.
 */
export function openingFills(
  markets: readonly EngineMarket[],
  holdings: readonly Holding[],
): OpeningFill[] | undefined {
  const fills: OpeningFill[] = [];
  for (const [m, market] of markets.entries()) {
    const rows = holdings.filter((h) => h.market === market.symbol);
    if (rows.length === 0) continue;
    if (rows.some((h) => h.entryPrice !== rows[0].entryPrice)) return undefined;
    const longs = rows.filter((h) => h.size > 0n).map((h) => ({ id: h.account, left: h.size }));
    const shorts = rows.filter((h) => h.size < 0n).map((h) => ({ id: h.account, left: -h.size }));
    let i = 0;
    let j = 0;
    while (i < longs.length && j < shorts.length) {
      const size = longs[i].left < shorts[j].left ? longs[i].left : shorts[j].left;
      fills.push({ market: m, long: longs[i].id, short: shorts[j].id, size, price: rows[0].entryPrice });
      longs[i].left -= size;
      shorts[j].left -= size;
      if (longs[i].left === 0n) i++;
      if (shorts[j].left === 0n) j++;
    }
    if (i < longs.length || j < shorts.length) return undefined;
  }
  return fills;
}

export interface LedgerOptions {
  /** Id of the keeper's account (its address when compared with the chain); "keeper" by default. */
  keeperId?: string;
  /** Share of trading fees set aside for the fund (18 decimals); the local deployment's 30% by default. */
  insuranceFeeShare?: bigint;
}

/** ClearingHouse._fillSide: charges the fee and sets aside the fund's share of it. */
function fillSide(l: Ledger, a: Account, sizeDelta: bigint, notional: bigint, feeRatio: bigint, share: bigint): void {
  const fee = mulWadUp(notional, feeRatio);
  l.insuranceFees += mulWad(fee, share);
  applyFill(l, a, sizeDelta, notional, fee);
}

/**
 * Opens the population in a fresh ledger as the chain does (ClearingHouse._executeFill at the entry price, trading
 * fees charged and the fund's share set aside): through {@link openingFills} when they exist, else each account
 * alone as a taker against the book.
 */
export function openLedger(
  markets: readonly EngineMarket[],
  holdings: readonly Holding[],
  fundUsd: bigint,
  options: LedgerOptions = {},
): Ledger {
  const index = new Map(markets.map((m, i) => [m.symbol, i]));
  const keeperId = options.keeperId ?? "keeper";
  const share = options.insuranceFeeShare ?? hardhat.insuranceFeeShare;
  const ledger: Ledger = {
    markets,
    accounts: [],
    // One keeper account across markets on chain: its collateral sits on the first market's entry here.
    keeper: markets.map((_, i) => account(keeperId, i, i === 0 ? KEEPER_COLLATERAL : 0n)),
    longOpenInterest: markets.map(() => 0n),
    shortOpenInterest: markets.map(() => 0n),
    longSocialLossIndex: markets.map(() => 0n),
    shortSocialLossIndex: markets.map(() => 0n),
    insuranceFees: 0n,
    fund: fundUsd,
    prices: markets.map((m) => holdings.find((h) => h.market === m.symbol)?.entryPrice ?? 0n),
    cases: new Map(),
    haircut: markets.map(() => [newSide(), newSide()]),
  };
  const byId = new Map<string, Account>();
  for (const h of holdings) {
    const m = index.get(h.market);
    if (m === undefined) throw new Error(`market ${h.market} is not deployed`);
    const a = account(h.account, m, h.collateral * SCALE);
    ledger.accounts.push(a);
    byId.set(h.account, a);
  }
  const fills = openingFills(markets, holdings);
  if (fills !== undefined) {
    for (const f of fills) {
      const notional = mulWad(f.size, f.price);
      const m = markets[f.market];
      fillSide(ledger, byId.get(f.long)!, f.size, notional, m.makerFeeRatio ?? 0n, share);
      fillSide(ledger, byId.get(f.short)!, -f.size, notional, m.takerFeeRatio ?? 0n, share);
    }
  } else {
    for (const h of holdings) {
      const a = byId.get(h.account)!;
      fillSide(ledger, a, h.size, mulWad(abs(h.size), h.entryPrice), markets[a.market].takerFeeRatio ?? 0n, share);
    }
  }
  return ledger;
}

function account(id: string, market: number, collateral: bigint): Account {
  return {
    id,
    market,
    collateral,
    size: 0n,
    openNotional: 0n,
    lastSocialLossIndex: 0n,
    haircutPrice: 0n,
    haircutRate: 0n,
    haircutCharges: 0,
  };
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
    prices: [...l.prices],
    cases: new Map([...l.cases].map(([id, c]) => [id, { ...c }])),
    haircut: l.haircut.map((sides) => sides.map((s) => ({ charges: [...s.charges], debt: s.debt }))),
  };
}

const sideIndex = (l: Ledger, market: number, size: bigint): bigint =>
  size > 0n ? l.longSocialLossIndex[market] : l.shortSocialLossIndex[market];

const isHaircut = (l: Ledger, market: number): boolean => l.markets[market].lossPolicy === "haircut";
const haircutSide = (l: Ledger, a: Account): HaircutSide => l.haircut[a.market][a.size > 0n ? 0 : 1];

/** Profit haircut the position owes and has not settled (AllocationLogic.owed); 0 outside haircut markets. */
export function haircutOwed(l: Ledger, a: Account): bigint {
  return a.size === 0n || !isHaircut(l, a.market) ? 0n : owedOnSide(haircutSide(l, a), a);
}

/** Social loss and profit haircut the account owes and has not settled (LedgerLib.health; funding is not modelled). */
export function pendingCharges(l: Ledger, a: Account): bigint {
  if (a.size === 0n) return 0n;
  return socialLossOwed(a.size, a.lastSocialLossIndex, sideIndex(l, a.market, a.size)) + haircutOwed(l, a);
}

/** Whether a loss has been charged in the market (social-loss index or a haircut): the float screen does not model it. */
export function lossCharged(l: Ledger, market: number): boolean {
  const [long, short] = l.haircut[market];
  return (
    l.longSocialLossIndex[market] !== 0n ||
    l.shortSocialLossIndex[market] !== 0n ||
    long.charges.length > 0 ||
    short.charges.length > 0
  );
}

/** LedgerLib.settle: charges the profit haircut (haircut markets) and then the social loss owed to collateral. */
export function settle(l: Ledger, a: Account): void {
  if (a.size === 0n) return;
  if (isHaircut(l, a.market)) a.collateral -= settleHaircut(haircutSide(l, a), a);
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

/** LedgerLib.applyFill: settle, move the position, realize PnL less `fee`, update open interest. */
export function applyFill(l: Ledger, a: Account, sizeDelta: bigint, notional: bigint, fee: bigint): void {
  settle(l, a);
  const before = a.size;
  const r = positionFill(a.size, a.openNotional, sizeDelta, notional);
  a.size = r.size;
  a.openNotional = r.openNotional;
  if (r.size !== 0n && (before === 0n || before > 0n !== r.size > 0n))
    a.lastSocialLossIndex = sideIndex(l, a.market, r.size);
  // AllocationLogic.afterFill: the snapshot follows the position's (possibly new) side and entry bucket.
  if (isHaircut(l, a.market)) snapHaircut(haircutSide(l, a), a);
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

/**
 * LiquidationMath.sizeRestoringMaintenance: the smallest size that brings equity to maintenance × (1 + buffer),
 * or all. Both sides are scaled by 10^18 so that (1 + b) is the integer 10^18 + b and only the last division rounds
 * (up); with buffer 0 it is the unbuffered size to the wei.
 */
export function sizeRestoringMaintenance(
  m: EngineMarket,
  price: bigint,
  h: { equity: bigint; maintenanceMargin: bigint },
  positionAbs: bigint,
): bigint {
  const scale = WAD + m.liquidationBuffer;
  const perUnit = m.maintenanceMarginRatio * scale - (m.liquidationDiscount + m.liquidationFeeRatio) * WAD;
  if (perUnit <= 0n) return positionAbs;
  const needed = mulDiv(h.maintenanceMargin * scale - h.equity * WAD, WAD * WAD, price * perUnit, true);
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
 * LiquidationLogic._haircut: HaircutLib.charge on the side opposite to `a`'s position at `price`, as the side stands
 * (the keeper's own position on it included). Returns what the winners' profit took of `amount`.
 */
function haircut(l: Ledger, a: Account, amount: bigint, price: bigint): bigint {
  const longSide = a.size < 0n;
  const positions = [...l.accounts, ...l.keeper].filter(
    (p) => p.market === a.market && p.size !== 0n && p.size > 0n === longSide,
  );
  const oi = longSide ? l.longOpenInterest[a.market] : l.shortOpenInterest[a.market];
  const all = [...l.accounts, ...l.keeper].filter((p) => p.market === a.market);
  const profit = winnersProfit(positions, longSide, price, oi, costBasis(all, longSide));
  return chargeHaircut(l.haircut[a.market][longSide ? 0 : 1], longSide, amount, price, profit);
}

/**
 * LiquidationLogic._realizeDeficit then _handOver (together _takeOver): the deficit the whole hand-over at the
 * oracle will leave, paid by the fund and then, in a haircut market, by the opposite side's winners, and the rest
 * socialized over the opposite side as it stands, before the position moves. `deleveraged` is what ADL steps already covered in an open case (part of the shortfall).
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
    const cut = isHaircut(l, a.market) ? haircut(l, a, remainder, price) : 0n;
    if (cut > 0n) {
      out.haircut += cut;
      out.haircuts += 1;
    }
    if (remainder > cut) {
      socialize(l, a.market, a.size < 0n, remainder - cut);
      out.socialized += remainder - cut;
      out.socializations += 1;
    }
    a.collateral += remainder;
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

/** PositionMath.closingNotional: the notional that leaves the position's mark-to-market value unchanged. */
export function closingNotional(size: bigint, q: bigint, price: bigint): bigint {
  const rest = size > 0n ? size - q : size + q;
  return abs(mulDivFloor(size, price, WAD) - mulDivFloor(rest, price, WAD));
}

const isKeeper = (l: Ledger, a: Account): boolean => l.keeper.includes(a);

/**
 * Settled collateral and equity of the account a position belongs to. The keeper is one account across markets
 * on chain, so its entries are summed, each valued at its market's price (LedgerLib.health).
 */
function accountTotals(l: Ledger, a: Account, price: bigint): { collateral: bigint; equity: bigint } {
  if (!isKeeper(l, a)) return { collateral: a.collateral, equity: health(l, a, price).equity };
  let collateral = 0n;
  let equity = 0n;
  for (const k of l.keeper) {
    collateral += k.collateral;
    equity += health(l, k, k.market === a.market ? price : l.prices[k.market]).equity;
  }
  return { collateral, equity };
}

/** LiquidationLogic._adlRank: the score the keeper reads (ClearingHouse.adlRank) to order counterparties. */
export function adlRank(
  l: Ledger,
  c: Account,
  price: bigint,
): { account: string; ref: Account; score: bigint; unrealizedPnl: bigint; notional: bigint } {
  const pnl = unrealizedPnl(c.size, c.openNotional, price);
  const notional = notionalAt(c.size, price);
  const { equity } = accountTotals(l, c, price);
  const score = adlScore({ size: c.size, openNotional: c.openNotional, unrealizedPnl: pnl, equity });
  return { account: c.id, ref: c, score, unrealizedPnl: pnl, notional };
}

/** EntryBookLib.firstBucket: the side's most profitable entry bucket (longs: the lowest, shorts: the highest). */
function firstBucket(l: Ledger, market: number, longSide: boolean): number {
  let first = longSide ? Infinity : -Infinity;
  for (const p of [...l.accounts, ...l.keeper]) {
    if (p.market !== market || p.size === 0n || p.size > 0n !== longSide) continue;
    const b = entryBucket(p.size, p.openNotional);
    first = longSide ? Math.min(first, b) : Math.max(first, b);
  }
  return first;
}

/** What a keeper call did: it went through, the contract ruled out this counterparty, or there was nothing to do. */
export type CallResult = "confirmed" | "rejected" | "nothing";

/**
 * LiquidationLogic.autoDeleverage(account, market, counterparty, size) called by the keeper: when what the fund
 * can pay covers the deficit the keeper takes the position over (_takeOver); otherwise the counterparty takes back
 * q = min(size, both positions) and gives up ⌊(D − A)·q/size⌋ (_deleverageStep, _deleverageTerms: "rejected" where
 * the contract reverts with CounterpartyWrongSide, CounterpartyNotProfitable or DeleverageExceedsProfit), and the
 * last part leaves the account flat owing what the fund pays (_realizeDeficit).
 */
export function autoDeleverage(
  l: Ledger,
  a: Account,
  c: Account,
  size: bigint,
  price: bigint,
  out: Outcome,
): CallResult {
  const open = l.cases.get(a.id);
  if (open === undefined || open.market !== a.market || a.size === 0n) return "nothing";
  settle(l, a);
  const h = health(l, a, price);
  if (h.equity >= 0n) return "nothing";
  const deficit = -h.equity;
  const available = availableForDraw(l);
  const m = a.market;
  if (available >= deficit) {
    out.log?.push({ kind: "adl-takeover", account: a.id, market: m, price });
    takeOver(l, a, price, out, open.deleveraged);
    l.cases.delete(a.id);
    return "confirmed";
  }
  settle(l, c);
  if (c.size === 0n || c.size > 0n === a.size > 0n) return "rejected";
  const otherPnl = unrealizedPnl(c.size, c.openNotional, price);
  if (otherPnl <= 0n) return "rejected";
  if (entryBucket(c.size, c.openNotional) !== firstBucket(l, m, c.size > 0n)) return "rejected"; // DeleverageOutOfOrder
  const accountAbs = abs(a.size);
  const otherAbs = abs(c.size);
  let q = accountAbs < otherAbs ? accountAbs : otherAbs;
  if (size < q) q = size;
  const owed = deficit - available;
  const loss = q === accountAbs ? owed : mulDiv(owed, q, accountAbs);
  const profit = mulDiv(otherPnl, q, otherAbs);
  const otherEquity = accountTotals(l, c, price).equity;
  const cap = otherEquity <= 0n ? 0n : profit < otherEquity ? profit : otherEquity;
  if (loss > cap) return "rejected";
  const closing = closingNotional(a.size, q, price);
  const notional = a.size > 0n ? closing + loss : closing - loss;
  const delta = a.size > 0n ? -q : q;
  applyFill(l, a, delta, notional, 0n);
  applyFill(l, c, -delta, notional, 0n);
  open.deleveraged += loss;
  out.deleveraged += loss;
  if (!out.adlCounterparties.includes(c.id)) out.adlCounterparties.push(c.id);
  out.adlSteps += 1;
  out.log?.push({ kind: "adl", account: a.id, market: m, price, counterparty: c.id });
  if (a.size === 0n) {
    takeOver(l, a, price, out, open.deleveraged);
    l.cases.delete(a.id);
  }
  return "confirmed";
}

/**
 * LiquidationLogic.socializeAfterTimeout: past the timeout, the keeper takes the position over and what the fund
 * cannot pay is socialized over the other side (_takeOver); an account that recovered just closes its case.
 */
export function socializeAfterTimeout(l: Ledger, a: Account, price: bigint, out: Outcome): CallResult {
  const open = l.cases.get(a.id);
  if (open === undefined || !open.ready) return "nothing";
  settle(l, a);
  out.log?.push({ kind: "timeout", account: a.id, market: a.market, price });
  if (a.size !== 0n && health(l, a, price).equity < 0n) takeOver(l, a, price, out, open.deleveraged);
  else recordDeficit(out, a.id, open.deleveraged);
  l.cases.delete(a.id);
  return "confirmed";
}

/**
 * LiquidationLogic.liquidate by the keeper for the account's whole position. Returns false when the contract
 * reverts (NotLiquidatable, or DeleverageInProgress for a bankrupt account with an open case).
 */
export function liquidate(l: Ledger, a: Account, price: bigint, out: Outcome): boolean {
  settle(l, a);
  const h = health(l, a, price);
  const open = l.cases.get(a.id);
  if (open !== undefined) {
    if (h.equity < 0n) return false;
    // The account recovered: its case closes with nothing socialized (_closeCase).
    recordDeficit(out, a.id, open.deleveraged);
    l.cases.delete(a.id);
    if (h.equity >= h.maintenanceMargin) return true;
  }
  if (h.equity >= h.maintenanceMargin || a.size === 0n) return false;
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
  // _liquidateBankrupt on the account's last (only) position: an ADL market whose fund is short opens a case.
  out.bankruptcies += 1;
  if (m.lossPolicy === "adl" && availableForDraw(l) < -h.equity) {
    l.cases.set(a.id, { market: a.market, longCounterparties: a.size < 0n, deleveraged: 0n, ready: false });
  } else takeOver(l, a, price, out, 0n);
  return true;
}
