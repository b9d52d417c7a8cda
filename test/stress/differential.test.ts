// The stress engine against the real contracts: the same positions and the same price move through the
// in-process network (devnet/hardhat fixture) and through stress/lib/engine.ts, compared to the wei — bad debt,
// fund draws, ADL, socialized and haircut amounts, and every account's collateral, position, pending social loss and
// pending profit haircut. The deployment's policies (ETH-USD ADL, BTC-USD socialized) and both markets under "haircut".
// Fixed scenarios, one per waterfall branch, and a replayed day with every keeper call of the engine made on
// chain by the test; Monte Carlo paths with the project's own keeper are in chain.test.ts.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import type { ContractTransactionReceipt } from "ethers";
import { fileURLToPath } from "node:url";

import {
  BTC_MARKET,
  ETH_MARKET,
  LOSS_POLICY_HAIRCUT,
  SCALE,
  USD,
  WAD,
  deploySystem,
  deploySystemWithPolicies,
  ethers,
  networkHelpers,
  type System,
} from "../../devnet/hardhat/fixture.js";
import { depositUsd, openAt, refreshFeeds, setPrice } from "../../devnet/hardhat/fund.js";
import { quietMarkets, stake } from "../../devnet/hardhat/waterfall.js";
import {
  emptyOutcome,
  haircutOwed,
  liquidate,
  openLedger,
  pendingCharges,
  settle,
  type Action,
  type EngineMarket,
  type Ledger,
  type Outcome,
} from "../../stress/lib/engine.js";
import { engineMarkets, replayDay } from "../../stress/lib/lab.js";
import { readAssets } from "../../stress/lib/run.js";
import { DEFAULT_PATH_SETTINGS, runPath, settleKeeper } from "../../stress/lib/scenario.js";
import type { Holding } from "../../stress/lib/population.js";

/** One position opened on chain: `long` buys `size` from `short` at `price` whole dollars. */
interface Pair {
  market: "ETH-USD" | "BTC-USD";
  long: number;
  short: number;
  size: bigint;
  price: bigint;
}
interface Scenario {
  deposits: [number, bigint][];
  pairs: Pair[];
  fundUsd: bigint;
  move: { market: "ETH-USD" | "BTC-USD"; price: bigint };
  bankrupt: number;
  /** What the contracts must have done for the scenario to test its branch. */
  expect: (f: Figures) => boolean;
  /** Both markets listed under "haircut" (else as deployed: ETH-USD ADL, BTC-USD socialized). */
  haircut?: boolean;
  /** Both markets' liquidation buffer, on chain and in the mirror (else 0, the fixture's). */
  buffer?: bigint;
}

const KEEPER = 7;
/** The fixture's markets with the trading fees that quietMarkets(system, false) turns off on chain. */
const feeless = (haircut = false, buffer = 0n): EngineMarket[] =>
  engineMarkets(undefined, undefined, haircut ? "haircut" : undefined, buffer).map((m) => ({
    ...m,
    makerFeeRatio: 0n,
    takerFeeRatio: 0n,
  }));
const deployFor = (haircut: boolean | undefined): Promise<System> =>
  haircut === true ? deploySystemWithPolicies(LOSS_POLICY_HAIRCUT, LOSS_POLICY_HAIRCUT) : deploySystem();
const marketId = (m: Pair["market"]): bigint => (m === "ETH-USD" ? ETH_MARKET : BTC_MARKET);

/** What the two sides are compared on. */
interface Figures {
  badDebt: bigint;
  fundPaid: bigint;
  deleveraged: bigint;
  socialized: bigint;
  haircut: bigint;
  fundAssets: bigint;
  insuranceFees: bigint;
  accounts: string[];
}

/** The receipts' BadDebtResolved amounts summed, with the fund's assets and the fees set aside now. */
async function receiptFigures(
  system: System,
  receipts: readonly (ContractTransactionReceipt | null)[],
): Promise<Figures> {
  const { clearingHouse, fund } = system;
  const figures: Figures = {
    badDebt: 0n,
    fundPaid: 0n,
    deleveraged: 0n,
    socialized: 0n,
    haircut: 0n,
    fundAssets: await fund.totalAssets(),
    insuranceFees: await clearingHouse.insuranceFees(),
    accounts: [],
  };
  for (const r of receipts) {
    for (const log of r?.logs ?? []) {
      const parsed = clearingHouse.interface.parseLog(log);
      if (parsed?.name !== "BadDebtResolved") continue;
      figures.badDebt += parsed.args.shortfall as bigint;
      figures.fundPaid += parsed.args.fundPaid as bigint;
      figures.deleveraged += parsed.args.deleveraged as bigint;
      figures.socialized += parsed.args.socialized as bigint;
      figures.haircut += parsed.args.haircut as bigint;
    }
  }
  return figures;
}

async function onChain(s: Scenario): Promise<Figures> {
  const system: System = await deployFor(s.haircut);
  await quietMarkets(system, false, s.buffer);
  const t = system.traders;
  const { clearingHouse, fund } = system;
  for (const [i, usd] of s.deposits) await depositUsd(clearingHouse, usd, t[i]);
  // The keeper needs margin for the positions it takes over; the engine's keeper has collateral that never binds,
  // so the keeper's collateral is left out of the comparison.
  await depositUsd(clearingHouse, 1_000_000n, t[KEEPER]);
  // Each pair at its own price: the oracle there first (the fill must be within the price band).
  for (const p of s.pairs) {
    await setPrice(p.market === "ETH-USD" ? system.ethFeed : system.btcFeed, p.price);
    await openAt(clearingHouse, t[p.long], t[p.short], marketId(p.market), p.size, p.price);
  }
  if (s.fundUsd > 0n) await stake(fund, t[6], s.fundUsd * USD);
  await setPrice(s.move.market === "ETH-USD" ? system.ethFeed : system.btcFeed, s.move.price);
  const keeper = clearingHouse.connect(t[KEEPER]);
  const market = marketId(s.move.market);
  const account = t[s.bankrupt].address;
  const receipts = [await (await keeper.liquidate(account, market, ethers.MaxUint256)).wait()];
  // An ADL case: the keeper deleverages counterparties in descending score, as the engine does.
  if ((await clearingHouse.deleverageCaseOf(account)).open) {
    const others = [...new Set(s.pairs.flatMap((p) => [p.long, p.short]))].filter((i) => i !== s.bankrupt);
    const ranked = await Promise.all(
      others.map(async (i) => ({ i, score: (await clearingHouse.adlRank(t[i].address, market)).score })),
    );
    ranked.sort((a, b) => (a.score === b.score ? 0 : a.score > b.score ? -1 : 1));
    for (const { i, score } of ranked) {
      if (score === 0n || !(await clearingHouse.deleverageCaseOf(account)).open) continue;
      receipts.push(await (await keeper.autoDeleverage(account, market, t[i].address, ethers.MaxUint256)).wait());
    }
  }
  const figures = await receiptFigures(system, receipts);
  const ids = [...new Set([...s.pairs.flatMap((p) => [p.long, p.short]), KEEPER])].sort((a, b) => a - b);
  for (const i of ids) figures.accounts.push(await accountLine(clearingHouse, t[i], i, market));
  return figures;
}

async function accountLine(
  clearingHouse: System["clearingHouse"],
  signer: HardhatEthersSigner,
  i: number,
  market: bigint,
): Promise<string> {
  const p = await clearingHouse.positionOf(signer.address, market);
  const collateral = i === KEEPER ? "keeper" : await clearingHouse.collateralOf(signer.address);
  const haircut = await clearingHouse.haircutOwed(signer.address, market);
  return `${i}: collateral ${collateral} size ${p.size} openNotional ${p.openNotional} owed ${p.socialLossOwed} haircut ${haircut}`;
}

/** An account as accountLine prints it on chain, from the engine's ledger. */
function mirrorLine(l: Ledger, id: string, a: Ledger["accounts"][number]): string {
  const cut = haircutOwed(l, a);
  const collateral = id === String(KEEPER) ? "keeper" : a.collateral;
  return `${id}: collateral ${collateral} size ${a.size} openNotional ${a.openNotional} owed ${pendingCharges(l, a) - cut} haircut ${cut}`;
}

/** The engine's side of the comparison: the outcome's sums, the fund and fees set aside, and the account lines. */
function mirrorFigures(l: Ledger, out: Outcome, accounts: string[]): Figures {
  return {
    badDebt: out.badDebt,
    fundPaid: out.fundPaid,
    deleveraged: out.deleveraged,
    socialized: out.socialized,
    haircut: out.haircut,
    fundAssets: l.fund,
    insuranceFees: l.insuranceFees,
    accounts,
  };
}

function inMirror(s: Scenario, markets: EngineMarket[]): Figures {
  const holdings: Holding[] = [];
  const deposits = new Map(s.deposits);
  const collateral = (i: number): bigint => {
    const usd = deposits.get(i) ?? 0n;
    deposits.delete(i);
    return usd * USD;
  };
  for (const p of s.pairs) {
    holdings.push({
      account: String(p.long),
      market: p.market,
      size: p.size,
      entryPrice: p.price * WAD,
      collateral: collateral(p.long),
    });
    holdings.push({
      account: String(p.short),
      market: p.market,
      size: -p.size,
      entryPrice: p.price * WAD,
      collateral: collateral(p.short),
    });
  }
  // One account per (trader, market) in the engine: merge repeated rows of the same trader (both pairs same side).
  const merged = new Map<string, Holding>();
  for (const h of holdings) {
    const prev = merged.get(h.account);
    merged.set(
      h.account,
      prev === undefined ? h : { ...prev, size: prev.size + h.size, collateral: prev.collateral + h.collateral },
    );
  }
  const l: Ledger = openLedger(markets, [...merged.values()], s.fundUsd * USD);
  const out: Outcome = emptyOutcome();
  const m = markets.findIndex((x) => x.symbol === s.move.market);
  l.prices[m] = s.move.price * WAD;
  liquidate(
    l,
    l.accounts.find((a) => a.id === String(s.bankrupt))!,
    s.move.price * WAD,
    out,
  );
  // An ADL case opened: the keeper's next cycles deleverage in score order, as the chain side does.
  settleKeeper(l, out, 0);
  const accounts = l.accounts.map((a) => ({ id: Number(a.id), text: mirrorLine(l, a.id, a) }));
  accounts.push({ id: KEEPER, text: mirrorLine(l, String(KEEPER), l.keeper[m]) });
  return mirrorFigures(
    l,
    out,
    accounts.sort((a, b) => a.id - b.id).map((a) => a.text),
  );
}

const SCENARIOS: Record<string, Scenario> = {
  "a solvent ETH long liquidated in part": {
    deposits: [
      [0, 200n],
      [1, 100_000n],
    ],
    pairs: [{ market: "ETH-USD", long: 0, short: 1, size: WAD, price: 2000n }],
    fundUsd: 0n,
    move: { market: "ETH-USD", price: 1850n },
    bankrupt: 0,
    expect: (f) => f.badDebt === 0n && f.insuranceFees > 0n,
  },
  // 1 ETH at 1,850, equity 50, maintenance 92.5: the 25% buffer closes ⌈65.625 / 78.625⌉ = 0.834658… ETH (0.765765…
  // without it), and the mirror must size it to the wei.
  "a solvent ETH long liquidated in part with a 25% liquidation buffer": {
    deposits: [
      [0, 200n],
      [1, 100_000n],
    ],
    pairs: [{ market: "ETH-USD", long: 0, short: 1, size: WAD, price: 2000n }],
    fundUsd: 0n,
    move: { market: "ETH-USD", price: 1850n },
    bankrupt: 0,
    buffer: WAD / 4n,
    expect: (f) => f.badDebt === 0n && f.insuranceFees > 0n,
  },
  "a bankrupt BTC long paid by the fund, then socialized": {
    deposits: [
      [0, 6_000n],
      [1, 10_000n],
      [2, 10_000n],
    ],
    pairs: [
      { market: "BTC-USD", long: 0, short: 1, size: WAD / 2n, price: 60_000n },
      { market: "BTC-USD", long: 0, short: 2, size: WAD / 2n, price: 60_000n },
    ],
    fundUsd: 1_000n,
    move: { market: "BTC-USD", price: 50_000n },
    bankrupt: 0,
    expect: (f) => f.badDebt === 4_000n * WAD && f.fundPaid === 1_000n * WAD && f.socialized === 3_000n * WAD,
  },
  "a bankrupt ETH long deleveraged against two shorts": {
    deposits: [
      [0, 200n],
      [1, 150n],
      [2, 1_000n],
    ],
    pairs: [
      { market: "ETH-USD", long: 0, short: 1, size: (6n * WAD) / 10n, price: 2000n },
      { market: "ETH-USD", long: 0, short: 2, size: (4n * WAD) / 10n, price: 2000n },
    ],
    fundUsd: 0n,
    move: { market: "ETH-USD", price: 1700n },
    bankrupt: 0,
    expect: (f) => f.badDebt === 100n * WAD && f.deleveraged === 100n * WAD,
  },
  // At 1,700 trader 0 (long 1.5 at 2,000, 300 deposited: initial margin) is short 150; the fund pays 100. The shorts
  // at 2,000 win 300 and 150, trader 3's short at 1,600 loses 100 and is no winner: G = 450, f = ⌈50/450⌉, nothing
  // socialized.
  "a bankrupt ETH long charged to the winning shorts (haircut), a losing short spared": {
    haircut: true,
    deposits: [
      [0, 300n],
      [1, 1_000n],
      [2, 1_000n],
      [3, 1_000n],
      [4, 1_000n],
    ],
    pairs: [
      { market: "ETH-USD", long: 4, short: 3, size: WAD, price: 1600n },
      { market: "ETH-USD", long: 0, short: 1, size: WAD, price: 2000n },
      { market: "ETH-USD", long: 0, short: 2, size: WAD / 2n, price: 2000n },
    ],
    fundUsd: 100n,
    move: { market: "ETH-USD", price: 1700n },
    bankrupt: 0,
    expect: (f) =>
      f.badDebt === 150n * WAD &&
      f.fundPaid === 100n * WAD &&
      f.haircut === 50n * WAD &&
      f.socialized === 0n &&
      // trader 1 owes ⌈300 f⌉, f = 0.111111111111111112: 33.333333333333333600; trader 3 nothing.
      f.accounts.some((a) => a.startsWith("1:") && a.endsWith("haircut 33333333333333333600")) &&
      f.accounts.some((a) => a.startsWith("3:") && a.endsWith("haircut 0")),
  },
};

describe("stress engine against the contracts (differential, fixed scenarios)", function () {
  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    it(`agrees to the wei: ${name}`, async function () {
      const chain = await onChain(scenario);
      expect(inMirror(scenario, feeless(scenario.haircut, scenario.buffer))).to.deep.equal(chain);
      // The branch the scenario is about was taken on chain (so the agreement is not on zeros).
      expect(scenario.expect(chain)).to.equal(true);
    });
  }

  it("catches a mirror that is deliberately wrong by one wei of maintenance margin", async function () {
    const scenario = SCENARIOS["a solvent ETH long liquidated in part"];
    const chain = await onChain(scenario);
    const wrong = feeless().map((m) => ({ ...m, maintenanceMarginRatio: m.maintenanceMarginRatio + 1n }));
    expect(inMirror(scenario, wrong)).to.not.deep.equal(chain);
  });

  it("catches a mirror that ignores the liquidation buffer", async function () {
    const scenario = SCENARIOS["a solvent ETH long liquidated in part with a 25% liquidation buffer"];
    const chain = await onChain(scenario);
    expect(inMirror(scenario, feeless(false, 0n))).to.not.deep.equal(chain);
    expect(inMirror(scenario, feeless(false, WAD / 10n))).to.not.deep.equal(chain);
  });

  it("catches a mirror that socializes where the deployment haircuts", async function () {
    const scenario = SCENARIOS["a bankrupt ETH long charged to the winning shorts (haircut), a losing short spared"];
    const chain = await onChain(scenario);
    const wrong = feeless(false).map((m) => ({ ...m, lossPolicy: "socialized" as const }));
    const mirror = inMirror(scenario, wrong);
    expect([mirror.haircut, mirror.socialized]).to.deep.equal([0n, 50n * WAD]);
    expect(mirror).to.not.deep.equal(chain);
  });

  it("catches a mirror that socializes where the deployment deleverages", async function () {
    const scenario = SCENARIOS["a bankrupt ETH long deleveraged against two shorts"];
    const chain = await onChain(scenario);
    const wrong = feeless().map((m) => ({ ...m, lossPolicy: "socialized" as const }));
    const mirror = inMirror(scenario, wrong);
    expect([mirror.deleveraged, mirror.socialized]).to.not.deep.equal([chain.deleveraged, chain.socialized]);
  });
});

/**
 * Thin winners' profit under policy haircut, which the lab's populations (everyone opening at one price) do not reach:
 * trader 0 is long 1.1 ETH at 2,000 (1 from trader 1, 0.1 from trader 4); at 1,600 trader 1 buys its short back
 * from trader 2, who is then short 1 at 1,600. At 1,650 trader 0's equity is 330 − 1.1 × 350 = −55 and there is no
 * fund; the only winner is trader 4 (2,000 − 1,650) × 0.1 = 35, taken at f = 1; the other 20 is socialized over the
 * 1.1 shorts at ⌈20 / 1.1⌉ = 18.181818181818181819 per unit. Compared to the wei with the engine holding the same
 * positions (trader 1, flat, is not in it).
 */
describe("stress engine against the contracts: thin winners' profit under haircut", function () {
  it("takes the winners' whole profit at f = 1 and socializes the rest, to the wei", async function () {
    const system = await deploySystemWithPolicies(LOSS_POLICY_HAIRCUT, LOSS_POLICY_HAIRCUT);
    await quietMarkets(system, false);
    const t = system.traders;
    const { clearingHouse } = system;
    for (const [i, usd] of [
      [0, 330n],
      [1, 1_000n],
      [2, 1_000n],
      [4, 1_000n],
    ] as const)
      await depositUsd(clearingHouse, usd, t[i]);
    await depositUsd(clearingHouse, 1_000_000n, t[KEEPER]);
    await openAt(clearingHouse, t[0], t[1], ETH_MARKET, WAD, 2000n);
    await openAt(clearingHouse, t[0], t[4], ETH_MARKET, WAD / 10n, 2000n);
    await setPrice(system.ethFeed, 1600n);
    await openAt(clearingHouse, t[1], t[2], ETH_MARKET, WAD, 1600n);
    await setPrice(system.ethFeed, 1650n);
    const receipt = await (
      await clearingHouse.connect(t[KEEPER]).liquidate(t[0].address, ETH_MARKET, ethers.MaxUint256)
    ).wait();
    const chain = await receiptFigures(system, [receipt]);
    for (const i of [0, 2, 4, KEEPER]) chain.accounts.push(await accountLine(clearingHouse, t[i], i, ETH_MARKET));

    const l = openLedger(
      feeless(true),
      [
        { account: "0", market: "ETH-USD", size: (11n * WAD) / 10n, entryPrice: 2000n * WAD, collateral: 330n * USD },
        { account: "2", market: "ETH-USD", size: -WAD, entryPrice: 1600n * WAD, collateral: 1_000n * USD },
        { account: "4", market: "ETH-USD", size: -WAD / 10n, entryPrice: 2000n * WAD, collateral: 1_000n * USD },
      ],
      0n,
    );
    const out = emptyOutcome();
    l.prices[0] = 1650n * WAD;
    liquidate(l, l.accounts[0], 1650n * WAD, out);
    settleKeeper(l, out, 0);
    const mirror = mirrorFigures(l, out, [
      ...l.accounts.map((a) => mirrorLine(l, a.id, a)),
      mirrorLine(l, String(KEEPER), l.keeper[0]),
    ]);
    expect(mirror).to.deep.equal(chain);
    expect([chain.badDebt, chain.haircut, chain.socialized]).to.deep.equal([55n * WAD, 35n * WAD, 20n * WAD]);
    // Trader 2 (short 1) owes ⌈1 × 18.181818181818181819⌉ of social loss and no haircut; trader 4 both.
    expect(chain.accounts[1]).to.match(/owed 18181818181818181819 haircut 0$/);
    expect(chain.accounts[2]).to.match(/owed 1818181818181818182 haircut 35000000000000000000$/);
  });
});

/**
 * A whole day through both: six accounts (three pairs, leverage up to 10x) and the 12 March 2020 replay. The engine
 * walks the path and records every keeper call; the contracts get the same calls at the same oracle prices. So
 * the waterfall is compared along a path; the keeper's timing is the engine's (chain.test.ts runs the project's
 * own keeper instead). No insurance fund: the fees set aside pay first and BTC-USD socializes the rest.
 */
describe("stress engine against the contracts along a replayed path", function () {
  const pairs: Pair[] = [
    { market: "ETH-USD", long: 0, short: 1, size: 10n * WAD, price: 2000n },
    { market: "BTC-USD", long: 2, short: 3, size: WAD / 2n, price: 60_000n },
    { market: "ETH-USD", long: 4, short: 5, size: 5n * WAD, price: 2000n },
  ];
  const deposits: [number, bigint][] = [
    [0, 2_050n],
    [1, 4_000n],
    [2, 3_300n],
    [3, 30_000n],
    [4, 1_500n],
    [5, 1_100n],
  ];
  const FUND = 0n;

  /**
   * The path through the engine; with `settleWinners`, afterwards every account that owes a profit haircut withdraws
   * one token unit (1e-6 USD) in ledger order, which settles its share first (`withdraw` → settleAll): the ids.
   */
  async function mirrorPath(
    markets: EngineMarket[],
    settleWinners = false,
  ): Promise<{ figures: Figures; log: Action[]; settled: string[] }> {
    const assets = await readAssets(fileURLToPath(new URL("../../stress/data/", import.meta.url)));
    const days = new Map(assets.map((a) => [a.asset, a.series.days]));
    const cash = new Map(deposits);
    const holdings: Holding[] = pairs.flatMap((p) => [
      {
        account: String(p.long),
        market: p.market,
        size: p.size,
        entryPrice: p.price * WAD,
        collateral: cash.get(p.long)! * USD,
      },
      {
        account: String(p.short),
        market: p.market,
        size: -p.size,
        entryPrice: p.price * WAD,
        collateral: cash.get(p.short)! * USD,
      },
    ]);
    const start = openLedger(markets, holdings, FUND * USD);
    const { outcome, ledger } = runPath(start, replayDay(markets, days, "2020-03-12"), DEFAULT_PATH_SETTINGS, true);
    const settled = settleWinners ? ledger.accounts.filter((a) => haircutOwed(ledger, a) > 0n) : [];
    for (const a of settled) {
      settle(ledger, a);
      a.collateral -= SCALE;
    }
    const owed = (a: Ledger["accounts"][number]): string =>
      `owed ${pendingCharges(ledger, a) - haircutOwed(ledger, a)} haircut ${haircutOwed(ledger, a)}`;
    const lines = ledger.accounts.map(
      (a) => `${a.id}: collateral ${a.collateral} size ${a.size} openNotional ${a.openNotional} ${owed(a)}`,
    );
    ledger.keeper.forEach((k, m) =>
      lines.push(`keeper ${m}: size ${k.size} openNotional ${k.openNotional} ${owed(k)}`),
    );
    return {
      figures: mirrorFigures(ledger, outcome, lines),
      log: outcome.log ?? [],
      settled: settled.map((a) => a.id),
    };
  }

  async function chainPath(log: readonly Action[], haircut = false, settle: readonly string[] = []): Promise<Figures> {
    const system = await deployFor(haircut);
    await quietMarkets(system, false);
    const t = system.traders;
    const { clearingHouse, fund } = system;
    for (const [i, usd] of deposits) await depositUsd(clearingHouse, usd, t[i]);
    await depositUsd(clearingHouse, 1_000_000n, t[KEEPER]);
    for (const p of pairs) await openAt(clearingHouse, t[p.long], t[p.short], marketId(p.market), p.size, p.price);
    if (FUND > 0n) await stake(fund, t[6], FUND * USD);
    const keeper = clearingHouse.connect(t[KEEPER]);
    const feeds = [system.ethFeed, system.btcFeed];
    const receipts = [];
    for (const a of log) {
      await (await feeds[a.market].setAnswer(a.price / 10n ** 10n)).wait();
      const who = t[Number(a.account)].address;
      if (a.kind === "liquidate")
        receipts.push(await (await keeper.liquidate(who, a.market, ethers.MaxUint256)).wait());
      else if (a.kind === "adl") {
        const other = t[Number(a.counterparty)].address;
        receipts.push(await (await keeper.autoDeleverage(who, a.market, other, ethers.MaxUint256)).wait());
      } else if (a.kind === "adl-takeover") {
        receipts.push(await (await keeper.autoDeleverage(who, a.market, t[KEEPER].address, ethers.MaxUint256)).wait());
      } else {
        await networkHelpers.time.increase(3_600);
        await refreshFeeds(system.ethFeed, system.btcFeed);
        receipts.push(await (await keeper.socializeAfterTimeout(who)).wait());
      }
    }
    for (const id of settle) await (await clearingHouse.connect(t[Number(id)]).withdraw(1n)).wait();
    const figures = await receiptFigures(system, receipts);
    for (const p of pairs) {
      for (const i of [p.long, p.short])
        figures.accounts.push(await accountLine(clearingHouse, t[i], i, marketId(p.market)));
    }
    for (const m of [ETH_MARKET, BTC_MARKET]) {
      const p = await clearingHouse.positionOf(t[KEEPER].address, m);
      const cut = await clearingHouse.haircutOwed(t[KEEPER].address, m);
      figures.accounts.push(
        `keeper ${m}: size ${p.size} openNotional ${p.openNotional} owed ${p.socialLossOwed} haircut ${cut}`,
      );
    }
    return figures;
  }

  it("agrees to the wei on every keeper call of the 12 March 2020 replay (liquidations, ADL, fund, socialized)", async function () {
    const { figures, log } = await mirrorPath(feeless());
    // The day takes every branch: liquidations, ADL steps in ETH-USD, fund draws and socialization in BTC-USD.
    expect(log.filter((a) => a.kind === "adl").length).to.be.greaterThan(0);
    expect([figures.fundPaid > 0n, figures.deleveraged > 0n, figures.socialized > 0n]).to.deep.equal([
      true,
      true,
      true,
    ]);
    expect(await chainPath(log)).to.deep.equal(figures);
  });

  it("agrees to the wei with both markets under policy haircut (charges, what each owes, then each winner settling)", async function () {
    const owing = await mirrorPath(feeless(true));
    // The deficits go to the winners' profit (no ADL, no case): each account's haircut owed is compared.
    expect(owing.log.every((a) => a.kind === "liquidate")).to.equal(true);
    expect([owing.figures.haircut > 0n, owing.figures.deleveraged]).to.deep.equal([true, 0n]);
    expect(owing.figures.badDebt).to.equal(owing.figures.fundPaid + owing.figures.haircut + owing.figures.socialized);
    expect(await chainPath(owing.log, true)).to.deep.equal(owing.figures);
    // Then the winners settle one after another (the side's debt caps the last of each side): collateral to the wei.
    const { figures, log, settled } = await mirrorPath(feeless(true), true);
    expect(settled.length).to.be.greaterThan(1);
    expect(await chainPath(log, true, settled)).to.deep.equal(figures);
  });

  it("fails when the mirror is one wei off in the liquidation fee", async function () {
    const wrong = feeless().map((m) => ({ ...m, liquidationFeeRatio: m.liquidationFeeRatio + 1n }));
    const { figures, log } = await mirrorPath(wrong);
    expect(await chainPath(log)).to.not.deep.equal(figures);
  });
});
