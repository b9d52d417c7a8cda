import type { Interface, JsonRpcProvider } from "ethers";

import {
  Indexer,
  Reader,
  adlPlace,
  connectDeployment,
  createProvider,
  groupLossEvents,
  liquidationPrice,
  readWaterfallEvents,
  toHeader,
  type AdlPlace,
  type BackstopBindings,
  type DeployedMarket,
  type Deployment,
  type LossEvent,
  type MarketPosition,
} from "#sdk";
import {
  AggregatorV3Interface__factory,
  ClearingHouse__factory,
  FundingLogic__factory,
  InsuranceFund__factory,
  LiquidationLogic__factory,
  MockERC20__factory,
} from "../../typechain-types/index.js";
import type { AppConfig } from "./config.js";

/**
 * Everything the page reads, through a JSON-RPC provider of its own (the deployment's URL), never the wallet:
 * the page reads the same chain with or without a wallet, and on a wallet set to the wrong chain.
 */
export interface Chain {
  config: AppConfig;
  deployment: Deployment;
  provider: JsonRpcProvider;
  contracts: BackstopBindings;
  reader: Reader;
  /** Accounts with positions, per side, and open deleverage cases, from the clearing house's events. */
  indexer: Indexer;
  token: { symbol: string; decimals: number };
  /** Every ABI whose custom errors a call of the page may revert with. */
  interfaces: Interface[];
}

export async function openChain(config: AppConfig): Promise<Chain> {
  const { deployment } = config;
  const provider = createProvider(config.rpcUrl, { chainId: deployment.chainId });
  const contracts = connectDeployment(deployment, provider);
  const [symbol, decimals] = await Promise.all([
    contracts.collateralToken.symbol(),
    contracts.collateralToken.decimals(),
  ]);
  const iface = ClearingHouse__factory.createInterface();
  return {
    config,
    deployment,
    provider,
    contracts,
    reader: new Reader({
      provider,
      clearingHouse: deployment.contracts.clearingHouse,
      lens: deployment.contracts.lens,
      batchSize: 200,
    }),
    indexer: new Indexer({
      provider,
      clearingHouse: deployment.contracts.clearingHouse,
      iface,
      startBlock: deployment.startBlock,
      logChunk: 10_000,
      reorgDepth: 0,
      completeHistory: true,
    }),
    token: { symbol, decimals: Number(decimals) },
    interfaces: [
      iface,
      LiquidationLogic__factory.createInterface(),
      FundingLogic__factory.createInterface(),
      InsuranceFund__factory.createInterface(),
      MockERC20__factory.createInterface(),
    ],
  };
}

/** Brings the indexer up to `block` (once per block however many screens ask). */
export async function syncIndexer(chain: Chain, block: number): Promise<void> {
  if (chain.indexer.lastBlock >= block) return;
  const head = await chain.provider.getBlock(block);
  if (head !== null) await chain.indexer.sync(toHeader(head));
}

export interface MarketRow {
  market: DeployedMarket;
  /** undefined when the adapter refuses the feed (stale, incomplete). */
  oraclePrice: bigint | undefined;
  /** Per day, 18 decimals. */
  fundingRate: bigint;
  longOpenInterest: bigint;
  shortOpenInterest: bigint;
  initialMarginRatio: bigint;
  maintenanceMarginRatio: bigint;
  makerFeeRatio: bigint;
  takerFeeRatio: bigint;
  priceBand: bigint;
  /** 10^(18 − feed decimals): the feed's price step in 18 decimals. */
  tick: bigint;
}

export interface FundState {
  /** Token units. */
  totalAssets: bigint;
  totalSupply: bigint;
  availableForDraw: bigint;
  /** Fees set aside in the clearing house for the fund, 18 decimals. */
  pendingFees: bigint;
  openDeleverageCases: bigint;
}

export interface OpenCase {
  account: string;
  marketId: number;
  longCounterparties: boolean;
  startedAt: bigint;
  initialShortfall: bigint;
  fundPaid: bigint;
  deleveraged: bigint;
}

export interface Overview {
  markets: MarketRow[];
  fund: FundState;
  cases: OpenCase[];
}

export async function readMarkets(chain: Chain, block: number): Promise<MarketRow[]> {
  const ch = chain.contracts.clearingHouse;
  const blockTag = block;
  const ids = chain.deployment.markets.map((m) => m.id);
  const [prices, ok] = await chain.contracts.lens.oraclePrices(ids, { blockTag });
  return Promise.all(
    chain.deployment.markets.map(async (market, i) => {
      const [params, state, rate] = await Promise.all([
        ch.marketParams(market.id, { blockTag }),
        ch.marketState(market.id, { blockTag }),
        ch.fundingRate(market.id, { blockTag }),
      ]);
      const feedDecimals = await AggregatorV3Interface__factory.connect(params.oracleFeed, chain.provider).decimals();
      return {
        market,
        oraclePrice: ok[i] ? prices[i] : undefined,
        fundingRate: rate,
        longOpenInterest: state.longOpenInterest,
        shortOpenInterest: state.shortOpenInterest,
        initialMarginRatio: params.initialMarginRatio,
        maintenanceMarginRatio: params.maintenanceMarginRatio,
        makerFeeRatio: params.makerFeeRatio,
        takerFeeRatio: params.takerFeeRatio,
        priceBand: params.priceBand,
        tick: 10n ** (18n - feedDecimals),
      } satisfies MarketRow;
    }),
  );
}

export async function readOverview(chain: Chain, block: number): Promise<Overview> {
  await syncIndexer(chain, block);
  const [markets, state, cases] = await Promise.all([
    readMarkets(chain, block),
    chain.contracts.lens.fundState({ blockTag: block }),
    chain.reader.cases([...chain.indexer.openCases], block),
  ]);
  return {
    markets,
    fund: {
      totalAssets: state.totalAssets,
      totalSupply: state.totalSupply,
      availableForDraw: state.availableForDraw,
      pendingFees: state.pendingFees,
      openDeleverageCases: state.openDeleverageCases,
    },
    cases: cases.filter((c) => c.open),
  };
}

export interface PositionRow {
  market: DeployedMarket;
  size: bigint;
  openNotional: bigint;
  markPrice: bigint;
  unrealizedPnl: bigint;
  fundingOwed: bigint;
  socialLossOwed: bigint;
  liquidationPrice: bigint | undefined;
  /** undefined for a long whose collateral covers a fall to zero. */
  bankruptcyPrice: bigint | undefined;
  adl: AdlPlace;
}

export interface AccountView {
  account: string;
  walletBalance: bigint;
  allowance: bigint;
  collateral: bigint;
  equity: bigint;
  initialMargin: bigint;
  maintenanceMargin: bigint;
  freeCollateral: bigint;
  positions: PositionRow[];
  /** This account's own open deleverage case, if it went bankrupt in an ADL market. */
  deleverageCase: OpenCase | undefined;
  /** The same positions as the SDK's margin math takes them. */
  inputs: MarketPosition[];
}

export async function readAccount(chain: Chain, account: string, block: number): Promise<AccountView> {
  await syncIndexer(chain, block);
  const { clearingHouse, lens, collateralToken } = chain.contracts;
  const blockTag = block;
  const [h, rows, balance, allowance, markets, [ownCase]] = await Promise.all([
    clearingHouse.accountHealth(account, { blockTag }),
    lens.positionsOf(account, { blockTag }),
    collateralToken.balanceOf(account, { blockTag }),
    collateralToken.allowance(account, chain.deployment.contracts.clearingHouse, { blockTag }),
    readMarkets(chain, block),
    chain.reader.cases([account], block),
  ]);
  const marketOf = (id: number): MarketRow => {
    const m = markets.find((row) => row.market.id === id);
    if (m === undefined) throw new Error(`market ${id} is not in the deployment file`);
    return m;
  };
  const inputs: MarketPosition[] = rows.map((r) => {
    const m = marketOf(Number(r.marketId));
    return {
      marketId: m.market.id,
      size: r.position.size,
      openNotional: r.position.openNotional,
      price: r.position.markPrice,
      charges: r.position.fundingOwed + BigInt(r.position.socialLossOwed),
      initialMarginRatio: m.initialMarginRatio,
      maintenanceMarginRatio: m.maintenanceMarginRatio,
    };
  });
  const positions = await Promise.all(
    rows.map(async (r): Promise<PositionRow> => {
      const m = marketOf(Number(r.marketId));
      return {
        market: m.market,
        size: r.position.size,
        openNotional: r.position.openNotional,
        markPrice: r.position.markPrice,
        unrealizedPnl: r.position.unrealizedPnl,
        fundingOwed: r.position.fundingOwed,
        socialLossOwed: r.position.socialLossOwed,
        liquidationPrice: liquidationPrice(h.collateral, inputs, m.market.id, m.tick),
        // The lens extends the line below zero; a long whose collateral covers a fall to zero has no such price.
        bankruptcyPrice: r.bankruptcyPrice > 0n ? r.bankruptcyPrice : undefined,
        adl: await adlPlace(chain.reader, chain.indexer, account, m.market.id, r.position.size > 0n, block),
      };
    }),
  );
  return {
    account,
    walletBalance: balance,
    allowance,
    collateral: h.collateral,
    equity: h.equity,
    initialMargin: h.initialMargin,
    maintenanceMargin: h.maintenanceMargin,
    freeCollateral: h.freeCollateral,
    positions,
    deleverageCase: ownCase?.open === true ? ownCase : undefined,
    inputs,
  };
}

/** 0 (not in the queue) to 5 (first to be deleveraged): the quintile of the rank, from the back of the queue. */
export function adlLight(place: Pick<AdlPlace, "rank" | "queue">): number {
  if (place.rank === undefined || place.queue === 0) return 0;
  return 5 - Math.floor(((place.rank - 1) * 5) / place.queue);
}

export interface StakerView {
  shares: bigint;
  /** What the shares would redeem for now, token units. */
  value: bigint;
  walletBalance: bigint;
  allowance: bigint;
  request: { shares: bigint; assets: bigint; readyAt: bigint } | undefined;
  /** When a confirmed exit may be paid; undefined while not confirmed. */
  exitAt: bigint | undefined;
}

export interface FundView {
  state: FundState;
  /** Token units per whole share. */
  sharePrice: bigint;
  shareDecimals: number;
  cooldown: bigint;
  unstakeWindow: bigint;
  exitExposure: bigint;
  now: bigint;
  staker: StakerView | undefined;
}

export async function readFund(chain: Chain, account: string | undefined, block: number): Promise<FundView> {
  const fund = chain.contracts.insuranceFund;
  const blockTag = block;
  const [state, shareDecimals, cooldown, window, exposure, head] = await Promise.all([
    chain.contracts.lens.fundState({ blockTag }),
    fund.decimals({ blockTag }),
    fund.cooldown({ blockTag }),
    fund.UNSTAKE_WINDOW({ blockTag }),
    fund.EXIT_EXPOSURE({ blockTag }),
    chain.provider.getBlock(block),
  ]);
  const oneShare = 10n ** shareDecimals;
  const sharePrice = await fund.convertToAssets(oneShare, { blockTag });
  let staker: StakerView | undefined;
  if (account !== undefined) {
    const [shares, balance, allowance, request, exitAt] = await Promise.all([
      fund.balanceOf(account, { blockTag }),
      chain.contracts.collateralToken.balanceOf(account, { blockTag }),
      chain.contracts.collateralToken.allowance(account, chain.deployment.contracts.insuranceFund, { blockTag }),
      fund.unstakeRequests(account, { blockTag }),
      fund.unstakeExitAt(account, { blockTag }),
    ]);
    staker = {
      shares,
      value: await fund.convertToAssets(shares, { blockTag }),
      walletBalance: balance,
      allowance,
      request:
        request.shares === 0n
          ? undefined
          : { shares: request.shares, assets: request.assets, readyAt: request.readyAt },
      exitAt: exitAt === 0n ? undefined : exitAt,
    };
  }
  return {
    state: {
      totalAssets: state.totalAssets,
      totalSupply: state.totalSupply,
      availableForDraw: state.availableForDraw,
      pendingFees: state.pendingFees,
      openDeleverageCases: state.openDeleverageCases,
    },
    sharePrice,
    shareDecimals: Number(shareDecimals),
    cooldown,
    unstakeWindow: window,
    exitExposure: exposure,
    now: BigInt(head?.timestamp ?? 0),
    staker,
  };
}

export interface FundPoint {
  block: number;
  /** Unix seconds. */
  time: number;
  /** Token units. */
  totalAssets: bigint;
  event: string;
}

export interface LossHistory {
  events: LossEvent[];
  /** The fund's assets after each block that moved them, oldest first. */
  fund: FundPoint[];
}

/** Blocks sampled at most for the fund's chart. */
const MAX_POINTS = 200;

export async function readLossHistory(chain: Chain, block: number): Promise<LossHistory> {
  const { clearingHouse, insuranceFund: fund } = chain.contracts;
  const from = chain.deployment.startBlock;
  const [waterfall, deposits, unstakes, draws, sweeps] = await Promise.all([
    readWaterfallEvents(chain.contracts, from),
    fund.queryFilter(fund.filters.Deposit(), from, block),
    fund.queryFilter(fund.filters.Unstaked(), from, block),
    fund.queryFilter(fund.filters.Drawn(), from, block),
    clearingHouse.queryFilter(clearingHouse.filters.InsuranceFeesSwept(), from, block),
  ]);
  const moves = new Map<number, string>();
  for (const [logs, name] of [
    [deposits, "stake"],
    [unstakes, "unstake"],
    [draws, "draw"],
    [sweeps, "fees swept"],
  ] as const) {
    for (const log of logs) moves.set(log.blockNumber, name);
  }
  if (!moves.has(block)) moves.set(block, "now");
  const blocks = [...moves.keys()].sort((a, b) => a - b).slice(-MAX_POINTS);
  const points = await Promise.all(
    blocks.map(async (b) => {
      const [assets, header] = await Promise.all([fund.totalAssets({ blockTag: b }), chain.provider.getBlock(b)]);
      return { block: b, time: header?.timestamp ?? 0, totalAssets: assets, event: moves.get(b) ?? "" };
    }),
  );
  return { events: groupLossEvents(waterfall), fund: points };
}
