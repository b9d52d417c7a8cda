import type { Interface } from "ethers";

import type { BackstopBindings } from "./contracts.js";
import type { DefaultLayers } from "../typechain-types/index.js";
import { sum } from "./constants.js";

/** The loss waterfall as the chain's events tell it, grouped into one record per bad-debt receipt. */

export interface ChainRef {
  blockNumber: number;
  logIndex: number;
  txHash: string;
}

export interface LiquidationEvent extends ChainRef {
  account: string;
  liquidator: string;
  marketId: number;
  /** Signed, the account's side (18 decimals). */
  size: bigint;
  oraclePrice: bigint;
  reward: bigint;
  fee: bigint;
  bankrupt: boolean;
}

export interface FundDrawEvent extends ChainRef {
  account: string;
  recipient: string;
  amount: bigint;
}

export interface DeleverageStepEvent extends ChainRef {
  account: string;
  counterparty: string;
  marketId: number;
  size: bigint;
  price: bigint;
  loss: bigint;
  score: bigint;
}

export interface CaseOpenedEvent extends ChainRef {
  account: string;
  marketId: number;
  shortfall: bigint;
  fundAvailable: bigint;
}

export interface SocializedEvent extends ChainRef {
  marketId: number;
  longSide: boolean;
  amount: bigint;
  indexDelta: bigint;
}

export interface ReceiptEvent extends ChainRef {
  account: string;
  marketId: number;
  shortfall: bigint;
  fundPaid: bigint;
  deleveraged: bigint;
  socialized: bigint;
  socializedPerUnit: bigint;
  /** Taken from the other side's profit (loss policy haircut); 0 in other markets. */
  haircut: bigint;
}

/** The parts of a receipt that were taken from traders rather than paid by the insurance layers. */
export type TraderParts = Pick<ReceiptEvent, "deleveraged" | "socialized" | "haircut">;

/** What a receipt (or a sum of receipts) took from traders: ADL, socialization and profit haircut. */
export function takenFromTraders(r: TraderParts): bigint {
  return r.deleveraged + r.socialized + r.haircut;
}

/**
 * What was taken from traders beyond the part of the shortfall the fund did not pay: 0 by the contracts' rule
 * (every receipt balances to the wei), computed so that a reader need not take it on trust.
 */
export function overshoot(r: TraderParts & Pick<ReceiptEvent, "shortfall" | "fundPaid">): bigint {
  return takenFromTraders(r) - (r.shortfall - r.fundPaid);
}

/** The default layers in the order they pay (`IDefaultLayers.Layer`). */
export const LAYER_NAMES = ["first loss", "stakers", "members' fund", "assessments"] as const;
export type LayerName = (typeof LAYER_NAMES)[number];

/** One layer's payment towards a draw of the clearing house (token units). */
export interface LayerDrawEvent extends ChainRef {
  layer: LayerName;
  amount: bigint;
}

/** One member's assessment (token units): what it was asked and what its collateral paid. */
export interface AssessmentEvent extends ChainRef {
  member: string;
  asked: bigint;
  collected: bigint;
}

/** The drawdown trigger cut a draw: `refused` (token units) went to the loss policy. */
export interface DrawdownEvent extends ChainRef {
  base: bigint;
  drawn: bigint;
  refused: bigint;
}

/** One resolved bad debt: its receipt and the events since the account's previous receipt that paid it. */
export interface LossEvent {
  receipt: ReceiptEvent;
  /** The bankrupt liquidation(s) of the account that led to it. */
  liquidations: LiquidationEvent[];
  /** Fund payments toward the deficit (recipient = the account; a bankrupt liquidation pays no reward). */
  fundDraws: FundDrawEvent[];
  caseOpened?: CaseOpenedEvent;
  adlSteps: DeleverageStepEvent[];
  socialization?: SocializedEvent;
  /** What each default layer paid in the receipt's transaction, in layer order (empty without layers). */
  layers: LayerDrawEvent[];
  /** The members assessed in the receipt's transaction. */
  assessments: AssessmentEvent[];
  /** Set when the drawdown trigger cut the layers' draw in the receipt's transaction. */
  drawdown?: DrawdownEvent;
}

export interface TokenFlows {
  /** Collateral paid into the clearing house (token units). */
  deposited: bigint;
  withdrawn: bigint;
  protocolFeesWithdrawn: bigint;
  /** Into the fund by stakers, token units. */
  staked: bigint;
  unstaked: bigint;
  /** Fees swept from the clearing house into the fund, token units. */
  swept: bigint;
  /** Paid by the fund to the clearing house (to the default layers, when the deployment has them), token units. */
  drawn: bigint;
  /** Default layers only (0 without): added to the first-loss capital by the treasury, token units. */
  firstLossFunded: bigint;
  /** Contributed to the members' fund (MemberJoined). */
  contributed: bigint;
  /** Paid to members who left (MemberLeft). */
  membersLeft: bigint;
  /** Swept fees the layers passed on to the stakers' fund (IncomeSplit.toStakers). */
  toStakers: bigint;
}

export interface WaterfallEvents {
  liquidations: LiquidationEvent[];
  fundDraws: FundDrawEvent[];
  casesOpened: CaseOpenedEvent[];
  adlSteps: DeleverageStepEvent[];
  socializations: SocializedEvent[];
  receipts: ReceiptEvent[];
  /** The default layers' events; empty when no layers contract was given. */
  layerDraws: LayerDrawEvent[];
  assessments: AssessmentEvent[];
  drawdowns: DrawdownEvent[];
  /** Accounts that ever received collateral: every account that can hold a position. */
  accounts: string[];
  flows: TokenFlows;
}

type Contracts = Pick<BackstopBindings, "clearingHouse" | "insuranceFund"> & {
  /** The default-layers contract the clearing house draws on, when the deployment has one. */
  defaultLayers?: DefaultLayers;
};

interface RawLog {
  blockNumber: number;
  index: number;
  transactionHash: string;
}

function ref(log: RawLog): ChainRef {
  return { blockNumber: log.blockNumber, logIndex: log.index, txHash: log.transactionHash };
}

/** Where {@link readWaterfallEvents} stops and how many blocks one log query may span. */
export interface ReadRange {
  /** Last block read; default the head when the read starts, so that every event type ends at the same block. */
  toBlock?: number;
  /** Blocks per eth_getLogs call; public RPC endpoints refuse wider ranges (often 10,000 or fewer). */
  maxBlockRange?: number;
}

/** The default span of one log query: wide enough for a local chain in one call, narrow enough for most RPCs. */
export const DEFAULT_MAX_BLOCK_RANGE = 10_000;

/** [from, to] cut into consecutive spans of at most `range` blocks (none when from > to). */
export function blockSpans(from: number, to: number, range: number): [number, number][] {
  if (!Number.isSafeInteger(range) || range < 1)
    throw new Error(`maxBlockRange must be a positive integer, got ${range}`);
  const spans: [number, number][] = [];
  for (let start = from; start <= to; start += range) spans.push([start, Math.min(start + range - 1, to)]);
  return spans;
}

/**
 * Every result of `query` over [from, to], one call per span of at most `range` blocks, the spans in order so the
 * results stay in chain order.
 */
export async function querySpans<T>(
  from: number,
  to: number,
  range: number,
  query: (from: number, to: number) => Promise<T[]>,
): Promise<T[]> {
  const parts: T[][] = [];
  for (const [start, end] of blockSpans(from, to, range)) parts.push(await query(start, end));
  return parts.flat();
}

/** Every waterfall event and token flow from `fromBlock` to `range.toBlock` (the head), in chain order. */
export async function readWaterfallEvents(
  contracts: Contracts,
  fromBlock: number,
  range: ReadRange = {},
): Promise<WaterfallEvents> {
  const ch = contracts.clearingHouse;
  const fund = contracts.insuranceFund;
  const f = ch.filters;
  let toBlock = range.toBlock;
  if (toBlock === undefined) {
    const provider = ch.runner?.provider;
    if (!provider) throw new Error("readWaterfallEvents: the contracts have no provider to read the head from");
    toBlock = await provider.getBlockNumber();
  }
  const last = toBlock;
  const span = range.maxBlockRange ?? DEFAULT_MAX_BLOCK_RANGE;
  // One query per event type and span.
  const all = <T>(query: (from: number, to: number) => Promise<T[]>): Promise<T[]> =>
    querySpans(fromBlock, last, span, query);
  const [liquidated, drawn, opened, steps, socialized, resolved, deposited, withdrawn, feesOut, swept] =
    await Promise.all([
      all((a, b) => ch.queryFilter(f.Liquidated(), a, b)),
      all((a, b) => ch.queryFilter(f.InsuranceFundDrawn(), a, b)),
      all((a, b) => ch.queryFilter(f.DeleverageRequired(), a, b)),
      all((a, b) => ch.queryFilter(f.Deleveraged(), a, b)),
      all((a, b) => ch.queryFilter(f.LossSocialized(), a, b)),
      all((a, b) => ch.queryFilter(f.BadDebtResolved(), a, b)),
      all((a, b) => ch.queryFilter(f.Deposited(), a, b)),
      all((a, b) => ch.queryFilter(f.Withdrawn(), a, b)),
      all((a, b) => ch.queryFilter(f.ProtocolFeesWithdrawn(), a, b)),
      all((a, b) => ch.queryFilter(f.InsuranceFeesSwept(), a, b)),
    ]);
  const [staked, unstaked, fundDrawn] = await Promise.all([
    all((a, b) => fund.queryFilter(fund.filters.Deposit(), a, b)),
    all((a, b) => fund.queryFilter(fund.filters.Unstaked(), a, b)),
    all((a, b) => fund.queryFilter(fund.filters.Drawn(), a, b)),
  ]);
  const layers = contracts.defaultLayers;
  const [layerDrawn, assessed, triggered, firstLossFunded, joined, left, split] =
    layers === undefined
      ? [[], [], [], [], [], [], []]
      : await Promise.all([
          all((a, b) => layers.queryFilter(layers.filters.LayerDrawn(), a, b)),
          all((a, b) => layers.queryFilter(layers.filters.MemberAssessed(), a, b)),
          all((a, b) => layers.queryFilter(layers.filters.DrawdownTriggered(), a, b)),
          all((a, b) => layers.queryFilter(layers.filters.FirstLossFunded(), a, b)),
          all((a, b) => layers.queryFilter(layers.filters.MemberJoined(), a, b)),
          all((a, b) => layers.queryFilter(layers.filters.MemberLeft(), a, b)),
          all((a, b) => layers.queryFilter(layers.filters.IncomeSplit(), a, b)),
        ]);
  const byChainOrder = (a: ChainRef, b: ChainRef): number => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex;
  return {
    layerDraws: layerDrawn
      .map((l) => ({ ...ref(l), layer: layerName(l.args.layer), amount: l.args.amount }))
      .sort(byChainOrder),
    assessments: assessed
      .map((l) => ({ ...ref(l), member: l.args.member, asked: l.args.asked, collected: l.args.collected }))
      .sort(byChainOrder),
    drawdowns: triggered
      .map((l) => ({ ...ref(l), base: l.args.base, drawn: l.args.drawn, refused: l.args.refused }))
      .sort(byChainOrder),
    liquidations: liquidated
      .map((l) => ({
        ...ref(l),
        account: l.args.account,
        liquidator: l.args.liquidator,
        marketId: Number(l.args.marketId),
        size: l.args.size,
        oraclePrice: l.args.oraclePrice,
        reward: l.args.reward,
        fee: l.args.fee,
        bankrupt: l.args.bankrupt,
      }))
      .sort(byChainOrder),
    fundDraws: drawn
      .map((l) => ({ ...ref(l), account: l.args.account, recipient: l.args.recipient, amount: l.args.amount }))
      .sort(byChainOrder),
    casesOpened: opened
      .map((l) => ({
        ...ref(l),
        account: l.args.account,
        marketId: Number(l.args.marketId),
        shortfall: l.args.shortfall,
        fundAvailable: l.args.fundAvailable,
      }))
      .sort(byChainOrder),
    adlSteps: steps
      .map((l) => ({
        ...ref(l),
        account: l.args.account,
        counterparty: l.args.counterparty,
        marketId: Number(l.args.marketId),
        size: l.args.size,
        price: l.args.price,
        loss: l.args.loss,
        score: l.args.score,
      }))
      .sort(byChainOrder),
    socializations: socialized
      .map((l) => ({
        ...ref(l),
        marketId: Number(l.args.marketId),
        longSide: l.args.longSide,
        amount: l.args.amount,
        indexDelta: l.args.indexDelta,
      }))
      .sort(byChainOrder),
    receipts: resolved
      .map((l) => ({
        ...ref(l),
        account: l.args.account,
        marketId: Number(l.args.marketId),
        shortfall: l.args.shortfall,
        fundPaid: l.args.fundPaid,
        deleveraged: l.args.deleveraged,
        socialized: l.args.socialized,
        socializedPerUnit: l.args.socializedPerUnit,
        haircut: l.args.haircut,
      }))
      .sort(byChainOrder),
    accounts: [...new Set(deposited.map((l) => l.args.account))],
    flows: {
      deposited: sum(deposited.map((l) => l.args.amount)),
      withdrawn: sum(withdrawn.map((l) => l.args.amount)),
      protocolFeesWithdrawn: sum(feesOut.map((l) => l.args.amount)),
      staked: sum(staked.map((l) => l.args.assets)),
      unstaked: sum(unstaked.map((l) => l.args.assets)),
      swept: sum(swept.map((l) => l.args.amount)),
      drawn: sum(fundDrawn.map((l) => l.args.amount)),
      firstLossFunded: sum(firstLossFunded.map((l) => l.args.amount)),
      contributed: sum(joined.map((l) => l.args.amount)),
      membersLeft: sum(left.map((l) => l.args.amount)),
      toStakers: sum(split.map((l) => l.args.toStakers)),
    },
  };
}

/**
 * Groups the events into one {@link LossEvent} per receipt: an event belongs to the receipt of its account in
 * the same transaction or the first one after it in chain order (a socialization, to the receipt of its
 * transaction).
 */
export function groupLossEvents(events: WaterfallEvents): LossEvent[] {
  const before = (a: ChainRef, b: ChainRef): boolean =>
    a.blockNumber < b.blockNumber || (a.blockNumber === b.blockNumber && a.logIndex < b.logIndex);
  const previous = new Map<string, ChainRef>();
  return events.receipts.map((receipt) => {
    const since = previous.get(receipt.account);
    previous.set(receipt.account, receipt);
    const belongs = (e: ChainRef): boolean =>
      e.txHash === receipt.txHash || (before(e, receipt) && (since === undefined || before(since, e)));
    const mine = <T extends ChainRef & { account: string }>(list: T[]): T[] =>
      list.filter((e) => e.account === receipt.account && belongs(e) && since?.txHash !== e.txHash);
    return {
      receipt,
      liquidations: mine(events.liquidations).filter((l) => l.bankrupt),
      fundDraws: mine(events.fundDraws).filter((d) => d.recipient === receipt.account),
      caseOpened: mine(events.casesOpened).at(-1),
      adlSteps: mine(events.adlSteps),
      socialization: events.socializations.find((s) => s.txHash === receipt.txHash && s.marketId === receipt.marketId),
      // The layers pay inside the call that emits the receipt, one draw per transaction.
      layers: events.layerDraws.filter((d) => d.txHash === receipt.txHash),
      assessments: events.assessments.filter((a) => a.txHash === receipt.txHash),
      drawdown: events.drawdowns.find((d) => d.txHash === receipt.txHash),
    };
  });
}

/** The name of an `IDefaultLayers.Layer` value read from the chain. */
export function layerName(value: bigint): LayerName {
  const name = LAYER_NAMES[Number(value)];
  if (name === undefined) throw new Error(`unknown default layer ${value}`);
  return name;
}

/** Σ of what the layers paid per layer, every layer named (0 for one that paid nothing). */
export function layerTotals(draws: readonly LayerDrawEvent[]): Record<LayerName, bigint> {
  const totals = Object.fromEntries(LAYER_NAMES.map((n) => [n, 0n])) as Record<LayerName, bigint>;
  for (const d of draws) totals[d.layer] += d.amount;
  return totals;
}

/** The waterfall events a keeper's transaction emits, as its log lines report them. */
const LOSS_EVENT_NAMES = new Set([
  "Liquidated",
  "InsuranceFundDrawn",
  "DeleverageRequired",
  "Deleveraged",
  "LossSocialized",
  "BadDebtResolved",
]);

/** One waterfall event of a transaction receipt, its arguments by name (18-decimal amounts as integers). */
export interface LossLog {
  event: string;
  args: Record<string, bigint | string | boolean>;
}

type RawEventLog = { address: string; topics: readonly string[]; data: string };

/** The logs of `address` whose event is in `names`, decoded with `iface`, their arguments by name, in log order. */
function decodeNamed(
  iface: Interface,
  address: string,
  names: ReadonlySet<string>,
  logs: readonly RawEventLog[],
): LossLog[] {
  const out: LossLog[] = [];
  for (const log of logs) {
    if (log.address.toLowerCase() !== address.toLowerCase()) continue;
    const parsed = iface.parseLog({ topics: [...log.topics], data: log.data });
    if (parsed === null || !names.has(parsed.name)) continue;
    const args: LossLog["args"] = {};
    parsed.fragment.inputs.forEach((input, i) => {
      args[input.name] = parsed.args[i] as bigint | string | boolean;
    });
    out.push({ event: parsed.name, args });
  }
  return out;
}

/**
 * The waterfall events among a receipt's logs from `clearingHouse`, decoded with its interface, in log order:
 * what a keeper logs after a liquidation, an ADL step or a socialization, with the amounts the chain recorded.
 */
export function decodeLossLogs(iface: Interface, clearingHouse: string, logs: readonly RawEventLog[]): LossLog[] {
  return decodeNamed(iface, clearingHouse, LOSS_EVENT_NAMES, logs);
}

/** The default layers' events a bad-debt transaction emits, as the keeper's log lines report them. */
const LAYER_EVENT_NAMES = new Set(["LayerDrawn", "MemberAssessed", "AssessmentUncollected", "DrawdownTriggered"]);

/**
 * The default layers' events among a receipt's logs from `layers`, decoded with the layers' interface, in log
 * order: which layer paid how much of a bankrupt account's deficit (LayerDrawn, `layer` as its name), which member
 * was assessed, what could not be collected, and whether the drawdown trigger cut the draw. Amounts are token
 * units, as the layers account in them.
 */
export function decodeLayerLogs(iface: Interface, layers: string, logs: readonly RawEventLog[]): LossLog[] {
  return decodeNamed(iface, layers, LAYER_EVENT_NAMES, logs).map((l) =>
    l.event === "LayerDrawn" ? { ...l, args: { ...l.args, layer: layerName(l.args.layer as bigint) } } : l,
  );
}
