import type { BlockTag, Provider } from "ethers";

import {
  BackstopLens__factory,
  ClearingHouse__factory,
  type BackstopLens,
  type ClearingHouse,
} from "../typechain-types/index.js";
import { lossPolicyName, type LossPolicyName } from "./constants.js";
import type { TrackedPosition } from "./math/position.js";

/** A market as the keeper needs it, read from the clearing house. */
export interface MarketInfo {
  id: number;
  lossPolicy: LossPolicyName;
  initialMarginRatio: bigint;
  maintenanceMarginRatio: bigint;
  /** An isolated market's own fund (ClearingHouse.isolatedPool); absent for a shared market. */
  isolatedFund?: string;
}

/** One account's margin at a block, from BackstopLens.healthOf. */
export interface AccountRow {
  account: string;
  collateral: bigint;
  equity: bigint;
  initialMargin: bigint;
  maintenanceMargin: bigint;
  liquidatable: boolean;
  bankrupt: boolean;
}

/** A row of BackstopLens.healthOf as a plain object (ethers' Result carries its fields by index too). */
export function accountRow(r: AccountRow): AccountRow {
  return {
    account: r.account,
    collateral: r.collateral,
    equity: r.equity,
    initialMargin: r.initialMargin,
    maintenanceMargin: r.maintenanceMargin,
    liquidatable: r.liquidatable,
    bankrupt: r.bankrupt,
  };
}

export interface CaseRow {
  account: string;
  open: boolean;
  longCounterparties: boolean;
  marketId: number;
  startedAt: bigint;
  initialShortfall: bigint;
  fundPaid: bigint;
  deleveraged: bigint;
}

export interface RankRow {
  account: string;
  score: bigint;
  unrealizedPnl: bigint;
  collateral: bigint;
  notional: bigint;
  equity: bigint;
}

export interface FundRow {
  /** What the fund and the fees set aside for it could pay now (18 decimals). */
  available: bigint;
  openDeleverageCases: bigint;
}

export interface ReaderOptions {
  provider: Provider;
  clearingHouse: string;
  lens: string;
  batchSize: number;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Reads chain state for the keeper, in lens batches and at one block tag per cycle so that every account in
 * a cycle is judged on the same prices and funding.
 */
export class Reader {
  readonly clearingHouse: ClearingHouse;
  readonly lens: BackstopLens;
  readonly #provider: Provider;
  readonly #batchSize: number;
  #scale: bigint | undefined;

  constructor(options: ReaderOptions) {
    this.#provider = options.provider;
    this.clearingHouse = ClearingHouse__factory.connect(options.clearingHouse, options.provider);
    this.lens = BackstopLens__factory.connect(options.lens, options.provider);
    this.#batchSize = options.batchSize;
  }

  async chainId(): Promise<bigint> {
    return (await this.#provider.getNetwork()).chainId;
  }

  /** Every listed market's parameters; ids count up from zero. */
  async markets(blockTag?: BlockTag): Promise<MarketInfo[]> {
    const count = Number(await this.clearingHouse.marketCount({ blockTag }));
    const ids = Array.from({ length: count }, (_, i) => i);
    return Promise.all(
      ids.map(async (id) => {
        const [p, pool] = await Promise.all([
          this.clearingHouse.marketParams(id, { blockTag }),
          this.clearingHouse.isolatedPool(id, { blockTag }),
        ]);
        return {
          id,
          lossPolicy: lossPolicyName(p.lossPolicy),
          initialMarginRatio: p.initialMarginRatio,
          maintenanceMarginRatio: p.maintenanceMarginRatio,
          ...(/^0x0{40}$/i.test(pool.fund) ? {} : { isolatedFund: pool.fund }),
        } satisfies MarketInfo;
      }),
    );
  }

  async deleverageTimeout(blockTag?: BlockTag): Promise<bigint> {
    return this.clearingHouse.deleverageTimeout({ blockTag });
  }

  /** 10^(18 − token decimals): converts the fund's token amounts into the clearing house's units. */
  async #tokenScale(): Promise<bigint> {
    if (this.#scale === undefined) {
      const token = await this.clearingHouse.collateralToken();
      const decimals = await this.#provider.call({ to: token, data: "0x313ce567" });
      this.#scale = 10n ** (18n - BigInt(decimals));
    }
    return this.#scale;
  }

  /**
   * Oracle prices of every market in one lens call, however many markets there are; a market whose feed the
   * adapter refuses (stale, incomplete, non-positive) is left out, so that one feed cannot blind the keeper to
   * the other markets.
   */
  async prices(markets: readonly MarketInfo[], blockTag: BlockTag): Promise<Map<number, bigint>> {
    const prices = new Map<number, bigint>();
    if (markets.length === 0) return prices;
    const [values, ok] = await this.lens.oraclePrices(
      markets.map((m) => m.id),
      { blockTag },
    );
    markets.forEach((m, i) => {
      if (ok[i]) prices.set(m.id, values[i]);
    });
    return prices;
  }

  /**
   * Health of each account. A batch that reverts (a stale feed makes every account with a position in that
   * market unreadable) is split until the accounts that cannot be read are isolated; they are left out, so
   * that one market's oracle cannot stop the keeper in the others.
   */
  async health(accounts: readonly string[], blockTag: BlockTag): Promise<AccountRow[]> {
    const batches = await Promise.all(
      chunks(accounts, this.#batchSize).map((batch) => this.#healthOf(batch, blockTag)),
    );
    return batches.flat();
  }

  async #healthOf(batch: readonly string[], blockTag: BlockTag): Promise<AccountRow[]> {
    if (batch.length === 0) return [];
    try {
      const rows = await this.lens.healthOf([...batch], { blockTag });
      return rows.map(accountRow);
    } catch (error) {
      if (!isCallException(error)) throw error;
      if (batch.length === 1) return [];
      const half = Math.ceil(batch.length / 2);
      const [a, b] = await Promise.all([
        this.#healthOf(batch.slice(0, half), blockTag),
        this.#healthOf(batch.slice(half), blockTag),
      ]);
      return [...a, ...b];
    }
  }

  async positions(account: string, blockTag: BlockTag): Promise<TrackedPosition[]> {
    const rows = await this.lens.positionsOf(account, { blockTag });
    return rows.map((r) => ({
      marketId: Number(r.marketId),
      size: r.position.size,
      openNotional: r.position.openNotional,
    }));
  }

  async cases(accounts: readonly string[], blockTag: BlockTag): Promise<CaseRow[]> {
    return Promise.all(
      accounts.map(async (account) => {
        const c = await this.clearingHouse.deleverageCaseOf(account, { blockTag });
        return {
          account,
          open: c.open,
          longCounterparties: c.longCounterparties,
          marketId: Number(c.marketId),
          startedAt: c.startedAt,
          initialShortfall: c.initialShortfall,
          fundPaid: c.fundPaid,
          deleveraged: c.deleveraged,
        };
      }),
    );
  }

  async ranks(marketId: number, accounts: readonly string[], blockTag: BlockTag = "latest"): Promise<RankRow[]> {
    const batches = await Promise.all(
      chunks(accounts, this.#batchSize).map(async (batch) => {
        const ranks = await this.lens.adlRanks(marketId, batch, { blockTag });
        return ranks.map((r, i) => ({
          account: batch[i],
          score: r.score,
          unrealizedPnl: r.unrealizedPnl,
          collateral: r.collateral,
          notional: r.notional,
          equity: r.equity,
        }));
      }),
    );
    return batches.flat();
  }

  async fund(blockTag: BlockTag = "latest"): Promise<FundRow> {
    const [state, scale] = await Promise.all([this.lens.fundState({ blockTag }), this.#tokenScale()]);
    return {
      available: state.availableForDraw * scale + state.pendingFees,
      openDeleverageCases: state.openDeleverageCases,
    };
  }

  /** Size of one account's position in one market, now. */
  async positionSize(account: string, marketId: number, blockTag: BlockTag = "latest"): Promise<bigint> {
    return (await this.clearingHouse.positionOf(account, marketId, { blockTag })).size;
  }

  async accountHealth(account: string, blockTag: BlockTag = "latest"): Promise<AccountRow> {
    const [row] = await this.health([account], blockTag);
    return row;
  }
}

/** A revert (as opposed to a transport failure). */
export function isCallException(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "CALL_EXCEPTION";
}
