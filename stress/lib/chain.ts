// Monte Carlo paths through the real contracts with the project's keeper: the population opened as real positions
// on the in-process Hardhat network (deployed by sdk's deployBackstop with the local parameters the engine
// mirrors), one evm_snapshot, and per path: evm_revert, a fresh Keeper from #keeper, the oracle moved to each
// point of the path where the engine's keeper acted, the keeper run there until it has nothing left to do (the
// deleverage timeout skipped with the clock), then the receipts read through sdk/loss-events.ts.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { BrowserProvider, Wallet, id, toQuantity, type Eip1193Provider } from "ethers";
import { network } from "hardhat";

import { createLogger, createMetrics, Keeper, parseConfig } from "#keeper";
import {
  deployBackstop,
  hardhat,
  LOCAL_CHAIN_ID,
  orderDomain,
  ORDER_TYPES,
  readWaterfallEvents,
  SCALE,
  sum,
  type DeployedBackstop,
} from "#sdk";
import { sendInChunks, type BatchCall } from "../../devnet/scenario/batch.js";
import { health, KEEPER_COLLATERAL, openingFills, type EngineMarket, type Ledger, type Outcome } from "./engine.js";
import type { Holding } from "./population.js";
import type { KeeperPoint } from "./scenario.js";

/** What one path did, as compared between the engine and the chain. Wad amounts; fundDrawn in token units. */
export interface PathFigures {
  badDebt: bigint;
  fundPaid: bigint;
  fundDrawn: bigint;
  deleveraged: bigint;
  socialized: bigint;
  /** Every account's equity at the end (the keeper's last), 18 decimals. */
  equities: bigint[];
}

export const FIGURE_KEYS = ["badDebt", "fundPaid", "fundDrawn", "deleveraged", "socialized"] as const;

/** The engine's figures of a path run on a ledger opened with {@link ChainLab.ids}. */
export function engineFigures(outcome: Outcome, ledger: Ledger): PathFigures {
  let keeper = 0n;
  for (const k of ledger.keeper) keeper += health(ledger, k, ledger.prices[k.market]).equity;
  return {
    badDebt: outcome.badDebt,
    fundPaid: outcome.fundPaid,
    fundDrawn: outcome.fundDrawn,
    deleveraged: outcome.deleveraged,
    socialized: outcome.socialized,
    equities: [...ledger.accounts.map((a) => health(ledger, a, ledger.prices[a.market]).equity), keeper],
  };
}

/** A deployed, populated chain whose paths start from one snapshot. */
export interface ChainLab {
  /** Holding account → lower-case address, and the keeper's: the ids the engine must use to rank ties as the chain. */
  ids: { accounts: Map<string, string>; keeper: string };
  /** Replays a path's keeper points and returns the chain's figures (after a last settle at `finalPrices`). */
  run(points: readonly KeeperPoint[], finalPrices: readonly bigint[]): Promise<PathFigures>;
  close(): Promise<void>;
}

export interface ChainOptions {
  /** Seeds the account keys (keccak of a label), so a run is the same twice. */
  seed: number;
  /** The keeper's --min-shortfall-bps (the engine's PathSettings.minShortfallBps). */
  minShortfallBps: number;
}

/** Gas limits with headroom over what these calls use on this system. */
const GAS = { mint: 120_000n, approve: 80_000n, depositFor: 150_000n, stake: 300_000n, fill: 600_000n } as const;
const ETH_FOR_GAS = 10n ** 21n;
const MAX_CYCLES = 500;

/**
 * An ethers provider over the in-process network: the chain id is fixed (without `staticNetwork` ethers asks for it
 * before every request, a third of all calls) and results are never cached (a stale nonce would be reused).
 */
function inProcessProvider(ethereum: Eip1193Provider): BrowserProvider {
  return new BrowserProvider(ethereum, LOCAL_CHAIN_ID, { cacheTimeout: -1, pollingInterval: 20, staticNetwork: true });
}

/** Sets up the chain: deployment, accounts with their collateral, the opening fills, the fund's stake (token units), the keeper. */
export async function openChainLab(
  markets: readonly EngineMarket[],
  holdings: readonly Holding[],
  fundTokens: bigint,
  options: ChainOptions,
): Promise<ChainLab> {
  const fills = openingFills(markets, holdings);
  if (fills === undefined)
    throw new Error("the population cannot open on chain: entry prices differ within a market or the sides differ");
  const connection = await network.create();
  const setupProvider = inProcessProvider(connection.provider);
  // The keeper reads the deployment from a file, as from the CLI: a temporary folder, removed on close.
  const dir = await mkdtemp(path.join(tmpdir(), "stress-chain-"));
  const cleanUp = async (): Promise<void> => {
    setupProvider.destroy();
    await connection.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const label = (what: string): string => id(`backstop-stress/${options.seed}/${what}`);
    const deployer = new Wallet(label("deployer"), setupProvider);
    const keeperWallet = new Wallet(label("keeper"));
    const staker = new Wallet(label("staker"), setupProvider);
    const wallets = new Map(holdings.map((h) => [h.account, new Wallet(label(`account/${h.account}`), setupProvider)]));
    for (const address of [
      deployer.address,
      keeperWallet.address,
      staker.address,
      ...[...wallets.values()].map((w) => w.address),
    ])
      await setupProvider.send("hardhat_setBalance", [address, toQuantity(ETH_FOR_GAS)]);
    const deployed = await deployBackstop(deployer, hardhat, { dir });
    if (deployed.path === undefined) throw new Error("deploy: no deployment file written");
    const { clearingHouse, collateralToken: token, insuranceFund: fund } = deployed.contracts;
    const ch = await clearingHouse.getAddress();
    const tokenAddress = await token.getAddress();
    const keeperTokens = KEEPER_COLLATERAL / SCALE;
    const collateral = sum(holdings.map((h) => h.collateral)) + keeperTokens;
    const call = (to: string, data: string, gasLimit: bigint, what: string, signer: Wallet = deployer): BatchCall => ({
      signer,
      to,
      data,
      gasLimit,
      label: what,
    });
    await sendInChunks(setupProvider, [
      call(tokenAddress, token.interface.encodeFunctionData("mint", [deployer.address, collateral]), GAS.mint, "mint"),
      call(tokenAddress, token.interface.encodeFunctionData("approve", [ch, collateral]), GAS.approve, "approve"),
      ...holdings.map((h) =>
        call(
          ch,
          clearingHouse.interface.encodeFunctionData("depositFor", [wallets.get(h.account)!.address, h.collateral]),
          GAS.depositFor,
          `depositFor ${h.account}`,
        ),
      ),
      call(
        ch,
        clearingHouse.interface.encodeFunctionData("depositFor", [keeperWallet.address, keeperTokens]),
        GAS.depositFor,
        "depositFor keeper",
      ),
      ...(fundTokens > 0n
        ? [
            call(
              tokenAddress,
              token.interface.encodeFunctionData("mint", [staker.address, fundTokens]),
              GAS.mint,
              "mint staker",
            ),
          ]
        : []),
    ]);
    await openPositions(deployed, setupProvider, fills, wallets);
    if (fundTokens > 0n) {
      const fundAddress = await fund.getAddress();
      await sendInChunks(setupProvider, [
        call(
          tokenAddress,
          token.interface.encodeFunctionData("approve", [fundAddress, fundTokens]),
          GAS.approve,
          "approve staker",
          staker,
        ),
        call(
          fundAddress,
          fund.interface.encodeFunctionData("deposit", [fundTokens, staker.address]),
          GAS.stake,
          "stake",
          staker,
        ),
      ]);
    }
    let snapshot = (await setupProvider.send("evm_snapshot", [])) as string;
    const ids = {
      accounts: new Map([...wallets].map(([account, w]) => [account, w.address.toLowerCase()])),
      keeper: keeperWallet.address.toLowerCase(),
    };
    const addresses = [...holdings.map((h) => wallets.get(h.account)!.address), keeperWallet.address];
    const config = parseConfig(
      [
        "--rpc",
        "http://in-process.invalid",
        "--deployment",
        deployed.path,
        "--log-level",
        "silent",
        // Automining: a receipt is there at once; the default 1 s between looks would dominate the run.
        "--poll-ms",
        "10",
        "--min-shortfall-bps",
        String(options.minShortfallBps),
      ],
      { KEEPER_PRIVATE_KEYS: keeperWallet.privateKey },
    );
    return {
      ids,
      async run(points, finalPrices) {
        if (!((await setupProvider.send("evm_revert", [snapshot])) as boolean)) throw new Error("evm_revert failed");
        snapshot = (await setupProvider.send("evm_snapshot", [])) as string;
        // A fresh provider and keeper per path: both hold chain state (nonces, the index) that the revert undid.
        const provider = inProcessProvider(connection.provider);
        const keeper = new Keeper({
          provider,
          signers: [keeperWallet.connect(provider)],
          deployment: deployed.deployment,
          config,
          logger: createLogger({ level: "silent" }),
          metrics: createMetrics(),
        });
        try {
          const fromBlock = (await provider.getBlockNumber()) + 1;
          const feeds = deployed.contracts.feeds.map((f) => f.connect(deployer.connect(provider)));
          const onChain = markets.map(() => 0n);
          const settle = async (prices: readonly bigint[]): Promise<void> => {
            for (const [m, price] of prices.entries()) {
              if (onChain[m] === price) continue;
              await (await feeds[m].setAnswer(price / 10n ** 10n)).wait();
              onChain[m] = price;
            }
            let waited = false;
            for (let cycle = 0; cycle < MAX_CYCLES; cycle++) {
              const report = await keeper.runOnce();
              if (report.results.some((r) => r.outcome === "confirmed")) {
                waited = false;
                continue;
              }
              if (report.openCases === 0 || waited) return;
              // A deleverage case with no eligible counterparty waits for the timeout: skip it with the clock.
              await provider.send("evm_increaseTime", [Number(hardhat.deleverageTimeout) + 1]);
              await provider.send("evm_mine", []);
              waited = true;
            }
            throw new Error(`the keeper was still acting after ${MAX_CYCLES} cycles`);
          };
          for (const p of points) await settle(p.prices);
          await settle(finalPrices);
          const events = await readWaterfallEvents(deployed.contracts, fromBlock);
          const rows = await deployed.contracts.lens.healthOf(addresses);
          return {
            badDebt: sum(events.receipts.map((r) => r.shortfall)),
            fundPaid: sum(events.receipts.map((r) => r.fundPaid)),
            fundDrawn: events.flows.drawn,
            deleveraged: sum(events.receipts.map((r) => r.deleveraged)),
            socialized: sum(events.receipts.map((r) => r.socialized)),
            equities: rows.map((r) => r.equity),
          };
        } finally {
          await keeper.stop();
          provider.destroy();
        }
      },
      close: cleanUp,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/** The opening fills as signed orders: the long signs a buy at the entry price, the short fills it as taker. */
async function openPositions(
  deployed: DeployedBackstop,
  provider: BrowserProvider,
  fills: NonNullable<ReturnType<typeof openingFills>>,
  wallets: ReadonlyMap<string, Wallet>,
): Promise<void> {
  const { clearingHouse } = deployed.contracts;
  const ch = await clearingHouse.getAddress();
  const { chainId } = await provider.getNetwork();
  const domain = orderDomain(Number(chainId), ch);
  const latest = await provider.getBlock("latest");
  if (latest === null) throw new Error("no latest block");
  const expiry = BigInt(latest.timestamp) + 86_400n;
  const nonces = new Map<string, bigint>();
  const calls: BatchCall[] = [];
  for (const [i, f] of fills.entries()) {
    const maker = wallets.get(f.long)!;
    const nonce = nonces.get(f.long) ?? 0n;
    nonces.set(f.long, nonce + 1n);
    const order = {
      maker: maker.address,
      marketId: BigInt(f.market),
      isBuy: true,
      size: f.size,
      limitPrice: f.price,
      expiry,
      nonce,
      reduceOnly: false,
    };
    const signature = await maker.signTypedData(domain, ORDER_TYPES, order);
    calls.push({
      signer: wallets.get(f.short)!,
      to: ch,
      data: clearingHouse.interface.encodeFunctionData("fillOrder", [order, signature, f.size]),
      gasLimit: GAS.fill,
      label: `fill #${i} (${f.long} buys from ${f.short})`,
    });
  }
  await sendInChunks(provider, calls);
}
