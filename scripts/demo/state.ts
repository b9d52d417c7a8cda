import type { BackstopContracts, DeleverageStepEvent, SocializedEvent, WaterfallEvents } from "#sdk";

/** What the solvency check needs from the chain: state at one block, and a few reads just before events. */

export interface AccountState {
  account: string;
  /** Settled collateral, 18 decimals. */
  collateral: bigint;
  equity: bigint;
  bankrupt: boolean;
  /** Signed sizes of the open positions. */
  positions: { marketId: number; size: bigint }[];
  openCase: boolean;
}

export interface MarketOpenInterest {
  marketId: number;
  long: bigint;
  short: bigint;
}

export interface SystemState {
  block: number;
  /** Token units → 18 decimals. */
  scale: bigint;
  /** Token balances, token units. */
  clearingHouseBalance: bigint;
  fundBalance: bigint;
  /** The default layers' token balance (first loss, members' fund, income not yet split); 0 without layers. */
  layersBalance: bigint;
  /** True when the clearing house draws on default layers (the fund is their second layer). */
  hasLayers: boolean;
  /** What the fund's shares are worth (convertToAssets(totalSupply)), token units. */
  fundSharesValue: bigint;
  /** Fees held by the clearing house, 18 decimals. */
  insuranceFees: bigint;
  protocolFees: bigint;
  openDeleverageCases: bigint;
  markets: MarketOpenInterest[];
  accounts: AccountState[];
}

export interface SolvencyInput {
  state: SystemState;
  events: WaterfallEvents;
  /** Per ADL step (same order as events.adlSteps): the counterparty's unrealized PnL in the block before. */
  adlProfitBefore: bigint[];
  /** Per socialization (same order): the open interest of the charged side in the block before. */
  chargedOpenInterest: bigint[];
}

type Contracts = Pick<
  BackstopContracts,
  "clearingHouse" | "insuranceFund" | "lens" | "collateralToken" | "defaultLayers"
>;

/** Reads the state of every account in `accounts` and of the system at the head. */
export async function readSystemState(contracts: Contracts, accounts: readonly string[]): Promise<SystemState> {
  const { clearingHouse: ch, insuranceFund: fund, lens, collateralToken: token } = contracts;
  const head = await ch.runner?.provider?.getBlockNumber();
  if (head === undefined) throw new Error("readSystemState: contracts are not connected to a provider");
  const at = { blockTag: head };
  const [chAddress, fundAddress, marketCount, decimals] = await Promise.all([
    ch.getAddress(),
    fund.getAddress(),
    ch.marketCount(at),
    token.decimals(at),
  ]);
  const layers = contracts.defaultLayers;
  const [chBalance, fundBalance, layersBalance, supply, insuranceFees, protocolFees, openCases, rows] =
    await Promise.all([
      token.balanceOf(chAddress, at),
      token.balanceOf(fundAddress, at),
      layers === undefined ? Promise.resolve(0n) : token.balanceOf(layers.getAddress(), at),
      fund.totalSupply(at),
      ch.insuranceFees(at),
      ch.protocolFees(at),
      ch.openDeleverageCases(at),
      accounts.length === 0 ? Promise.resolve([]) : lens.healthOf([...accounts], at),
    ]);
  const [sharesValue, markets, positions, cases] = await Promise.all([
    fund.convertToAssets(supply, at),
    Promise.all(
      Array.from({ length: Number(marketCount) }, async (_, id) => {
        const state = await ch.marketState(id, at);
        return { marketId: id, long: state.longOpenInterest, short: state.shortOpenInterest };
      }),
    ),
    Promise.all(accounts.map((a) => lens.positionsOf(a, at))),
    Promise.all(accounts.map((a) => ch.deleverageCaseOf(a, at))),
  ]);
  return {
    block: head,
    scale: 10n ** (18n - decimals),
    clearingHouseBalance: chBalance,
    fundBalance,
    layersBalance,
    hasLayers: layers !== undefined,
    fundSharesValue: sharesValue,
    insuranceFees,
    protocolFees,
    openDeleverageCases: openCases,
    markets,
    accounts: rows.map((row, i) => ({
      account: row.account,
      collateral: row.collateral,
      equity: row.equity,
      bankrupt: row.bankrupt,
      positions: positions[i].map((p) => ({ marketId: Number(p.marketId), size: p.position.size })),
      openCase: cases[i].open,
    })),
  };
}

/**
 * The counterparty's unrealized PnL just before each ADL step and the charged side's open interest just before
 * each socialization, read at the previous block: the demo's chain mines one transaction per block.
 */
export async function readBeforeEvents(
  contracts: Pick<BackstopContracts, "clearingHouse">,
  adlSteps: readonly DeleverageStepEvent[],
  socializations: readonly SocializedEvent[],
): Promise<{ adlProfitBefore: bigint[]; chargedOpenInterest: bigint[] }> {
  const ch = contracts.clearingHouse;
  const [adlProfitBefore, chargedOpenInterest] = await Promise.all([
    Promise.all(
      adlSteps.map(async (s) => {
        const view = await ch.positionOf(s.counterparty, s.marketId, { blockTag: s.blockNumber - 1 });
        return view.unrealizedPnl;
      }),
    ),
    Promise.all(
      socializations.map(async (s) => {
        const state = await ch.marketState(s.marketId, { blockTag: s.blockNumber - 1 });
        return s.longSide ? state.longOpenInterest : state.shortOpenInterest;
      }),
    ),
  ]);
  return { adlProfitBefore, chargedOpenInterest };
}
