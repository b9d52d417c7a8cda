// Monte Carlo paths through the real contracts with the project's keeper: the population opened as real positions
// on the in-process Hardhat network (deployed by sdk's deployBackstop with the local parameters the engine
// mirrors), one evm_snapshot, and per path: evm_revert, a fresh Keeper from #keeper, the oracle moved to each
// point of the path where the engine's keeper acted, the keeper run there until it has nothing left to do (the
// deleverage timeout skipped with the clock), then the receipts read through sdk/loss-events.ts.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import {
  BrowserProvider,
  Wallet,
  dataSlice,
  getAddress,
  id,
  toQuantity,
  type Eip1193Provider,
  type Interface,
} from "ethers";
import { network } from "hardhat";

import { createLogger, createMetrics, Keeper, parseConfig } from "#keeper";
import {
  deployBackstop,
  describeError,
  hardhat,
  MAX_UINT256,
  LOCAL_CHAIN_ID,
  orderDomain,
  ORDER_TYPES,
  readWaterfallEvents,
  SCALE,
  shortfall,
  type AccountRow,
  sum,
  type DeployedBackstop,
} from "#sdk";
import { sendInChunks, type BatchCall } from "../../devnet/scenario/batch.js";
import {
  health,
  KEEPER_COLLATERAL,
  openingFills,
  type Action,
  type EngineMarket,
  type Ledger,
  type Outcome,
} from "./engine.js";
import type { Holding } from "./population.js";
import { addressWord, decodeHealthRows, healthOfCall, staticCall, uintWord } from "./raw-abi.js";
import type { KeeperPoint } from "./scenario.js";

/** What one path did, as compared between the engine and the chain. Wad amounts; fundDrawn in token units. */
export interface PathFigures {
  badDebt: bigint;
  fundPaid: bigint;
  fundDrawn: bigint;
  deleveraged: bigint;
  socialized: bigint;
  /** Taken from winners' profit in haircut markets (BadDebtResolved.haircut). */
  haircut: bigint;
  /** Every account's equity at the end (the keeper's last), 18 decimals. */
  equities: bigint[];
}

export const FIGURE_KEYS = ["badDebt", "fundPaid", "fundDrawn", "deleveraged", "socialized", "haircut"] as const;

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
    haircut: outcome.haircut,
    equities: [...ledger.accounts.map((a) => health(ledger, a, ledger.prices[a.market]).equity), keeper],
  };
}

/** The chain's figures of a replayed path, and the points where the chain left a keeper job the engine did not. */
export interface ReplayFigures extends PathFigures {
  /** Per point (then the final prices) where it happened: accounts the keeper would still act on. */
  undone: { point: number; accounts: string[] }[];
}

/** A deployed, populated chain whose paths start from one snapshot. */
export interface ChainLab {
  /** Holding account → lower-case address, and the keeper's: the ids the engine must use to rank ties as the chain. */
  ids: { accounts: Map<string, string>; keeper: string; forwarder: string };
  /** Replays a path's keeper points and returns the chain's figures (after a last settle at `finalPrices`). */
  run(points: readonly KeeperPoint[], finalPrices: readonly bigint[]): Promise<PathFigures>;
  /**
   * The fast way: the engine keeper's calls (`log`, grouped by `points`, recorded by runPath) sent as they are,
   * up to BATCH_CALLS per transaction through the forwarder, with no simulation; after each point, and at the end,
   * the check that the project's keeper would find nothing left to do. Throws when the chain reverts a call.
   */
  replay(
    points: readonly KeeperPoint[],
    log: readonly Action[],
    finalPrices: readonly bigint[],
  ): Promise<ReplayFigures>;
  close(): Promise<void>;
}

export interface ChainOptions {
  /** Seeds the account keys (keccak of a label), so a run is the same twice. */
  seed: number;
  /** The keeper's --min-shortfall-bps (the engine's PathSettings.minShortfallBps). */
  minShortfallBps: number;
}

/**
 * Gas limits with headroom over what these calls use on this system (a haircut market's first fill writes both
 * sides' entry books and cost bases: 670,489 gas measured).
 */
const GAS = { mint: 120_000n, approve: 80_000n, depositFor: 150_000n, stake: 300_000n, fill: 1_000_000n } as const;
const ETH_FOR_GAS = 10n ** 21n;
const MAX_CYCLES = 500;
/**
 * Calls per forwarded batch, and its gas: room for 40 calls of up to 350,000 gas, under the 2^24 cap per transaction;
 * 20 when a market is under "haircut", whose liquidations move the entry books and a charge costs ~650,000.
 */
const BATCH_CALLS = 40;
const HAIRCUT_BATCH_CALLS = 20;
const BATCH_GAS = 16_000_000n;
/**
 * EIP-1559 fees of the replay's transactions: a cap far above the base fee of these mostly empty blocks (it falls
 * from 1 gwei) and no tip. Both given, Hardhat's automatic gas price handler leaves the request alone.
 */
const FEES = { maxFeePerGas: toQuantity(10n ** 11n), maxPriorityFeePerGas: "0x0" } as const;

/**
 * Runtime code of a forwarder to `target`: the calldata is a list of calls, each a 2-byte length and that many
 * bytes; it makes them in order and reverts with the first failing call's revert data. Hand-assembled, 71 bytes:
 *
 *   0x00 PUSH1 0              offset = 0
 *   0x02 JUMPDEST             loop: if offset >= calldatasize, stop
 *        CALLDATASIZE DUP2 LT PUSH1 0x0a JUMPI STOP
 *   0x0a JUMPDEST             len = calldata[offset..offset+2]; copy calldata[offset+2..] to memory 0
 *        DUP1 CALLDATALOAD PUSH1 0xf0 SHR DUP1 DUP3 PUSH1 2 ADD PUSH1 0 CALLDATACOPY
 *        PUSH1 0 PUSH1 0 DUP3 PUSH1 0 PUSH1 0 PUSH20 target GAS CALL    call(gas, target, 0, 0, len, 0, 0)
 *        PUSH1 ok JUMPI RETURNDATASIZE PUSH1 0 PUSH1 0 RETURNDATACOPY RETURNDATASIZE PUSH1 0 REVERT
 *   ok:  JUMPDEST PUSH1 2 ADD ADD PUSH1 0x02 JUMP                        offset += 2 + len
 */
export function forwarderCode(target: string): string {
  const head =
    "6000" + "5b" + "36" + "81" + "10" + "600a" + "57" + "00" + "5b" + "80" + "35" + "60f0" + "1c" + "80" + "82";
  const copy = "6002" + "01" + "6000" + "37";
  const call = "6000" + "6000" + "82" + "6000" + "6000" + "73" + target.slice(2).toLowerCase() + "5a" + "f1";
  const failLength = 13;
  const okAt = (head.length + copy.length + call.length) / 2 + failLength;
  const fail = "60" + okAt.toString(16).padStart(2, "0") + "57" + "3d" + "6000" + "6000" + "3e" + "3d" + "6000" + "fd";
  const ok = "5b" + "6002" + "01" + "01" + "6002" + "56";
  return `0x${head}${copy}${call}${fail}${ok}`;
}

/** A forwarder's calldata: each call as its 2-byte length and bytes. */
export function batchData(calls: readonly string[]): string {
  return `0x${calls.map((c) => (c.length / 2 - 1).toString(16).padStart(4, "0") + c.slice(2)).join("")}`;
}

/** Selectors of the keeper's calls, read once from the ClearingHouse interface. */
export interface KeeperSelectors {
  liquidate: string;
  autoDeleverage: string;
  socializeAfterTimeout: string;
}

/** The selector of `name` in `abi` (0x + 8 hex digits). */
function selectorOf(abi: Interface, name: string): string {
  const f = abi.getFunction(name);
  if (f === null) throw new Error(`no function ${name} in the ABI`);
  return f.selector;
}

/** The selectors {@link encodeAction} needs, from the ClearingHouse's ABI. */
export function keeperSelectors(ch: Interface): KeeperSelectors {
  return {
    liquidate: selectorOf(ch, "liquidate"),
    autoDeleverage: selectorOf(ch, "autoDeleverage"),
    socializeAfterTimeout: selectorOf(ch, "socializeAfterTimeout"),
  };
}

/**
 * The contract call the project's keeper makes for an engine keeper call (keeper/src/executor.ts encode), encoded
 * by hand (stress/lib/raw-abi.ts; a test compares it with ethers' encoding of each kind).
 */
export function encodeAction(s: KeeperSelectors, a: Action, keeper: string): string {
  const market = uintWord(BigInt(a.market));
  const max = uintWord(MAX_UINT256);
  switch (a.kind) {
    case "liquidate":
      return staticCall(s.liquidate, [addressWord(a.account), market, max]);
    case "adl":
      // The engine asks for min(both sizes), which is what the contract takes for any larger size.
      return staticCall(s.autoDeleverage, [addressWord(a.account), market, addressWord(a.counterparty), max]);
    case "adl-takeover":
      // The fund now covers the deficit: the caller takes the position over, whoever is named as counterparty.
      return staticCall(s.autoDeleverage, [addressWord(a.account), market, addressWord(keeper), max]);
    case "timeout":
      return staticCall(s.socializeAfterTimeout, [addressWord(a.account)]);
  }
}

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
    // The replay's keeper (ChainLab.replay): a forwarder contract at an address of its own.
    const forwarder = getAddress(dataSlice(label("forwarder"), 12));
    for (const address of [
      deployer.address,
      keeperWallet.address,
      staker.address,
      ...[...wallets.values()].map((w) => w.address),
    ])
      await setupProvider.send("hardhat_setBalance", [address, toQuantity(ETH_FOR_GAS)]);
    // The local parameters with each market under the engine's loss policy (the side-by-side runs list them all
    // under one policy; a policy is fixed at listing, so a deployment per policy) and with the engine's buffer.
    const params = {
      ...hardhat,
      markets: hardhat.markets.map((m) => {
        const e = markets.find((x) => x.symbol === m.symbol);
        return {
          ...m,
          lossPolicy: e?.lossPolicy ?? m.lossPolicy,
          risk: { ...m.risk, liquidationBuffer: e?.liquidationBuffer ?? m.risk.liquidationBuffer },
        };
      }),
    };
    const deployed = await deployBackstop(deployer, params, { dir });
    if (deployed.path === undefined) throw new Error("deploy: no deployment file written");
    const { clearingHouse, collateralToken: token, insuranceFund: fund } = deployed.contracts;
    const ch = await clearingHouse.getAddress();
    const tokenAddress = await token.getAddress();
    const keeperTokens = KEEPER_COLLATERAL / SCALE;
    const collateral = sum(holdings.map((h) => h.collateral)) + 2n * keeperTokens;
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
      call(
        ch,
        clearingHouse.interface.encodeFunctionData("depositFor", [forwarder, keeperTokens]),
        GAS.depositFor,
        "depositFor forwarder",
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
    // It makes a batch of calls as one transaction: its address is the liquidator and the counterparty, with the
    // same collateral as the keeper's.
    await setupProvider.send("hardhat_setCode", [forwarder, forwarderCode(ch)]);
    let snapshot = (await setupProvider.send("evm_snapshot", [])) as string;
    const ids = {
      accounts: new Map([...wallets].map(([account, w]) => [account, w.address.toLowerCase()])),
      keeper: keeperWallet.address.toLowerCase(),
      forwarder: forwarder.toLowerCase(),
    };
    const traders = holdings.map((h) => wallets.get(h.account)!.address);
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
        // One transaction at a time, in queue order, as the engine's keeper it is compared with acts.
        "--max-in-flight",
        "1",
        "--min-shortfall-bps",
        String(options.minShortfallBps),
      ],
      { KEEPER_PRIVATE_KEYS: keeperWallet.privateKey },
    );
    const ethereum = connection.provider;
    const batchCalls = markets.some((m) => m.lossPolicy === "haircut") ? HAIRCUT_BATCH_CALLS : BATCH_CALLS;
    await ethereum.request({ method: "hardhat_impersonateAccount", params: [deployer.address] });
    const feedAddresses = await Promise.all(deployed.contracts.feeds.map((f) => f.getAddress()));
    const selectors = keeperSelectors(clearingHouse.interface);
    const setAnswer = selectorOf(deployed.contracts.feeds[0].interface, "setAnswer");
    const lensAddress = await deployed.contracts.lens.getAddress();
    const healthOf = selectorOf(deployed.contracts.lens.interface, "healthOf");
    /**
     * One transaction from an unlocked account, mined at once (automine); throws with `what` when it reverts. The
     * fees are given, so that Hardhat's request handler does not ask for the fee history before each one.
     */
    const send = async (from: string, to: string, data: string, what: string): Promise<void> => {
      try {
        await ethereum.request({
          method: "eth_sendTransaction",
          params: [{ from, to, data, gas: toQuantity(BATCH_GAS), ...FEES }],
        });
      } catch (error) {
        throw new Error(`the chain reverted the engine's ${what}: ${describeError(error)}`, { cause: error });
      }
    };
    /** BackstopLens.healthOf of `accounts` at the latest block, as one eth_call encoded and decoded by hand. */
    const healthRows = async (accounts: readonly string[]): Promise<AccountRow[]> => {
      if (accounts.length === 0) return [];
      const result: unknown = await ethereum.request({
        method: "eth_call",
        params: [{ to: lensAddress, data: healthOfCall(healthOf, accounts) }, "latest"],
      });
      if (typeof result !== "string") throw new Error("healthOf: the chain returned no data");
      return decodeHealthRows(result);
    };
    /**
     * The figures since `fromBlock` and the health rows their equities come from. With `receiptsOnly`, two log
     * queries (the receipts and the fund's draws) instead of sdk/loss-events.ts's whole waterfall: the same sums.
     */
    const figuresSince = async (
      fromBlock: number,
      keeper: string,
      receiptsOnly: boolean,
    ): Promise<PathFigures & { rows: AccountRow[] }> => {
      const rows = await healthRows([...traders, keeper]);
      let receipts: { shortfall: bigint; fundPaid: bigint; deleveraged: bigint; socialized: bigint; haircut: bigint }[];
      let fundDrawn: bigint;
      if (receiptsOnly) {
        const [resolved, drawn] = await Promise.all([
          clearingHouse.queryFilter(clearingHouse.filters.BadDebtResolved(), fromBlock),
          fund.queryFilter(fund.filters.Drawn(), fromBlock),
        ]);
        receipts = resolved.map((l) => l.args);
        fundDrawn = sum(drawn.map((l) => l.args.amount));
      } else {
        const events = await readWaterfallEvents(deployed.contracts, fromBlock);
        receipts = events.receipts;
        fundDrawn = events.flows.drawn;
      }
      return {
        rows,
        badDebt: sum(receipts.map((r) => r.shortfall)),
        fundPaid: sum(receipts.map((r) => r.fundPaid)),
        fundDrawn,
        deleveraged: sum(receipts.map((r) => r.deleveraged)),
        socialized: sum(receipts.map((r) => r.socialized)),
        haircut: sum(receipts.map((r) => r.haircut)),
        equities: rows.map((r) => r.equity),
      };
    };
    /**
     * Accounts the project's keeper would still act on now (keeper/src/strategy.ts planJobs): liquidatable and
     * either bankrupt without an open deleverage case, or solvent and short by at least `minShortfallBps`. A
     * bankrupt account with an open case waits for a counterparty or the timeout, as the engine's does.
     */
    const leftUndone = async (rows: readonly AccountRow[]): Promise<string[]> => {
      const undone: string[] = [];
      for (const r of rows) {
        if (!r.liquidatable) continue;
        // keeper/src/strategy.ts isDust: short of maintenance by less than minShortfallBps of it.
        if (!r.bankrupt && shortfall(r) * 10_000n < r.maintenanceMargin * BigInt(options.minShortfallBps)) continue;
        if (r.bankrupt && (await clearingHouse.deleverageCaseOf(r.account)).open) continue;
        undone.push(r.account.toLowerCase());
      }
      return undone;
    };
    return {
      ids,
      async replay(points, log, finalPrices) {
        if (!((await setupProvider.send("evm_revert", [snapshot])) as boolean)) throw new Error("evm_revert failed");
        snapshot = (await setupProvider.send("evm_snapshot", [])) as string;
        const fromBlock = (await setupProvider.getBlockNumber()) + 1;
        const onChain = markets.map(() => 0n);
        const setPrices = async (prices: readonly bigint[]): Promise<void> => {
          for (const [m, price] of prices.entries()) {
            if (onChain[m] === price) continue;
            // setAnswer(int256) of a positive 8-decimal price: its word is the unsigned one.
            const data = staticCall(setAnswer, [uintWord(price / 10n ** 10n)]);
            await send(deployer.address, feedAddresses[m], data, `price ${price} of market ${m}`);
            onChain[m] = price;
          }
        };
        const undone: ReplayFigures["undone"] = [];
        let next = 0;
        for (const [k, p] of points.entries()) {
          if (p.actions === undefined) throw new Error("replay needs the points of a recorded path (runPath record)");
          await setPrices(p.prices);
          while (next < p.actions) {
            // A batch ends before a timeout call: the engine's keeper moved the clock past the case's timeout first.
            let end = next + 1;
            while (end < p.actions && end - next < batchCalls && log[end].kind !== "timeout") end++;
            if (log[next].kind === "timeout")
              await ethereum.request({ method: "evm_increaseTime", params: [Number(hardhat.deleverageTimeout) + 1] });
            const calls = log.slice(next, end).map((a) => encodeAction(selectors, a, forwarder));
            await send(deployer.address, forwarder, batchData(calls), `calls ${next + 1} to ${end} (point ${k})`);
            next = end;
          }
          const watched = p.watch ?? [];
          const left = await leftUndone(await healthRows(watched));
          if (left.length > 0) undone.push({ point: k, accounts: left });
        }
        if (next !== log.length) throw new Error(`${log.length - next} engine calls after the last point`);
        await setPrices(finalPrices);
        const { rows, ...figures } = await figuresSince(fromBlock, forwarder, true);
        const left = await leftUndone(rows);
        if (left.length > 0) undone.push({ point: points.length, accounts: left });
        return { ...figures, undone };
      },
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
          const { rows: _, ...figures } = await figuresSince(fromBlock, keeperWallet.address, false);
          return figures;
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
