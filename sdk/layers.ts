import type { BlockTag, Provider } from "ethers";

import { DefaultLayers__factory, type BackstopLens, type DefaultLayers } from "../typechain-types/index.js";
import { MAX_UINT256, WAD } from "./constants.js";
import { isCallException } from "./reader.js";
import { LAYER_NAMES, type LayerName } from "./loss-events.js";

/**
 * The default layers' state as people and tools read it (issue 11): every layer's size and what it would pay
 * towards a draw made now (BackstopLens.layersState), and one member's record (DefaultLayers' views). Amounts
 * are token units, times Unix seconds.
 */

/** One layer: what it holds and what it would pay now, after the layers above it, within the drawdown trigger. */
export interface LayerRow {
  layer: LayerName;
  /** First loss and members' fund: the balance; stakers: the fund's assets; assessments: Σ cap left. */
  size: bigint;
  wouldPay: bigint;
}

/** The drawdown trigger as a draw made now would find it. */
export interface DrawdownState {
  /** Share of the window's base the layers may pay (18 decimals); 1e18 is off. */
  fraction: bigint;
  /** Seconds. */
  window: bigint;
  windowStart: bigint;
  base: bigint;
  drawn: bigint;
  /** What the layers may still pay in the window; `undefined` when the trigger is off. */
  budget: bigint | undefined;
  tripped: boolean;
}

export interface LayersState {
  layers: string;
  stakers: string;
  /** In the order they pay: first loss, stakers, members' fund, assessments. */
  rows: LayerRow[];
  drawdown: DrawdownState;
  /** Σ wouldPay: what the clearing house can draw on the layers now. */
  availableForDraw: bigint;
  members: number;
  totalContribution: bigint;
  /** 0 before any draw. */
  lastDefaultAt: bigint;
  firstLossPaid: bigint;
  assessedTotal: bigint;
}

/** The layers' state from the lens, or `undefined` when the clearing house draws on the stakers' fund directly. */
export async function readLayers(lens: BackstopLens, blockTag: BlockTag = "latest"): Promise<LayersState | undefined> {
  const s = await lens.layersState({ blockTag });
  if (/^0x0{40}$/i.test(s.layers)) return undefined;
  const d = s.drawdown;
  return {
    layers: s.layers,
    stakers: s.stakers,
    rows: s.rows.map((r) => ({ layer: LAYER_NAMES[Number(r.layer)], size: r.size, wouldPay: r.wouldPay })),
    drawdown: {
      fraction: d.fraction,
      window: d.window,
      windowStart: d.windowStart,
      base: d.base,
      drawn: d.drawn,
      budget: d.budget === MAX_UINT256 ? undefined : d.budget,
      tripped: d.tripped,
    },
    availableForDraw: s.availableForDraw,
    members: Number(s.members),
    totalContribution: s.totalContribution,
    lastDefaultAt: s.lastDefaultAt,
    firstLossPaid: s.firstLossPaid,
    assessedTotal: s.assessedTotal,
  };
}

/** An isolated market's own fund (BackstopLens.isolatedFunds). Token units, except `pendingFees`. */
export interface IsolatedFundRow {
  marketId: number;
  fund: string;
  /** An InsuranceFund vault, or a DefaultLayers instance. */
  kind: "vault" | "layers";
  /** The market's fee pot in the clearing house, 18 decimals (swept to the fund in whole units). */
  pendingFees: bigint;
  /** The fund's token balance (layers: their own balance plus their stakers' vault's). */
  size: bigint;
  /** What a draw for this market could take now: the pot's whole units plus the fund's availableForDraw. */
  wouldPay: bigint;
}

/**
 * Every isolated market's fund, in market order. The kind is told apart as the lens tells the shared fund's: a
 * DefaultLayers answers `stakers()`, a vault has no such function and the call reverts.
 */
export async function readIsolatedFunds(
  lens: BackstopLens,
  provider: Provider,
  blockTag: BlockTag = "latest",
): Promise<IsolatedFundRow[]> {
  const rows = await lens.isolatedFunds({ blockTag });
  const kinds = await Promise.all(rows.map((r) => fundKind(r.fund, provider, blockTag)));
  return rows.map((r, i) => ({
    marketId: Number(r.marketId),
    fund: r.fund,
    kind: kinds[i],
    pendingFees: r.pendingFees,
    size: r.size,
    wouldPay: r.wouldPay,
  }));
}

async function fundKind(fund: string, provider: Provider, blockTag: BlockTag): Promise<"vault" | "layers"> {
  try {
    await DefaultLayers__factory.connect(fund, provider).stakers({ blockTag });
    return "layers";
  } catch (error) {
    if (isCallException(error)) return "vault";
    throw error;
  }
}

/**
 * Where a member's notice to leave stands (DefaultLayers.requestLeave / leaveFund): none given; running until
 * `leaveAt`; open (it may leave until `closesAt`, unless `blocked`); or lapsed (give notice again).
 */
export type NoticeState =
  | { stage: "none" }
  | { stage: "running"; leaveAt: bigint; closesAt: bigint }
  | { stage: "open"; leaveAt: bigint; closesAt: bigint; blocked: LeaveBlock | undefined }
  | { stage: "lapsed"; leaveAt: bigint; closesAt: bigint };

/** What stops a member whose notice is open from leaving now: a recent default, or a bad debt being deleveraged. */
export type LeaveBlock = { reason: "cooling-off"; defaultAt: bigint; until: bigint } | { reason: "bad-debt-pending" };

export interface NoticeInputs {
  /** The member's `leaveAt` (0: no notice). */
  leaveAt: bigint;
  now: bigint;
  leaveWindow: bigint;
  lastDefaultAt: bigint;
  coolingOffPeriod: bigint;
  openDeleverageCases: bigint;
}

/** The notice's stage by DefaultLayers.leaveFund's rules, checked in its order. */
export function noticeState(i: NoticeInputs): NoticeState {
  if (i.leaveAt === 0n) return { stage: "none" };
  const closesAt = i.leaveAt + i.leaveWindow;
  if (i.now < i.leaveAt) return { stage: "running", leaveAt: i.leaveAt, closesAt };
  if (i.now >= closesAt) return { stage: "lapsed", leaveAt: i.leaveAt, closesAt };
  const until = i.lastDefaultAt + i.coolingOffPeriod;
  let blocked: LeaveBlock | undefined;
  if (i.lastDefaultAt !== 0n && i.now < until) blocked = { reason: "cooling-off", defaultAt: i.lastDefaultAt, until };
  else if (i.openDeleverageCases !== 0n) blocked = { reason: "bad-debt-pending" };
  return { stage: "open", leaveAt: i.leaveAt, closesAt, blocked };
}

/** One account's membership, token units. A non-member has `member` false, its required contribution, and zeros. */
export interface MemberState {
  account: string;
  member: boolean;
  contribution: bigint;
  shares: bigint;
  /** What its shares of the members' fund are worth now. */
  value: bigint;
  /** Its shares over all shares of the members' fund (18 decimals); 0 for a non-member. */
  fundShare: bigint;
  /** The published rule's contribution to join now (what a new member pays at least). */
  requiredContribution: bigint;
  /** Collected from it in its current assessment period (0 once the period is over). */
  assessedInPeriod: bigint;
  /** k × contribution: the most it can be assessed in a period. */
  assessmentCap: bigint;
  capLeft: bigint;
  /** When its current period ends (undefined when no period is running: it starts at its next assessment). */
  periodEnd: bigint | undefined;
  notice: NoticeState;
}

/** `account`'s membership as of the latest block (`now` is its timestamp). */
export async function readMember(
  layers: DefaultLayers,
  account: string,
  now: bigint,
  openDeleverageCases: bigint,
): Promise<MemberState> {
  const [record, value, required, capLeft, params, memberShares, lastDefaultAt, leaveWindow] = await Promise.all([
    layers.memberOf(account),
    layers.memberValue(account),
    layers.requiredContribution(account),
    layers.assessmentCapLeft(account),
    layers.parameters(),
    layers.memberShares(),
    layers.lastDefaultAt(),
    layers.LEAVE_WINDOW(),
  ]);
  const member = record.contribution !== 0n;
  const periodEnd = record.periodStart + params.coolingOffPeriod;
  const running = member && record.periodStart !== 0n && now < periodEnd;
  return {
    account,
    member,
    contribution: record.contribution,
    shares: record.shares,
    value,
    fundShare: memberShares === 0n ? 0n : (record.shares * WAD) / memberShares,
    requiredContribution: required,
    assessedInPeriod: running ? record.assessed : 0n,
    assessmentCap: (record.contribution * params.assessmentMultiple) / WAD,
    capLeft,
    periodEnd: running ? periodEnd : undefined,
    notice: noticeState({
      leaveAt: record.leaveAt,
      now,
      leaveWindow,
      lastDefaultAt,
      coolingOffPeriod: params.coolingOffPeriod,
      openDeleverageCases,
    }),
  };
}
