// Gas of a bankrupt liquidation that walks every default layer (issue 11) with 2, 8 and 32 clearing members, on
// the production build: `npm run bench:layers`. Writes results/bench/layers-gas.json.
//
// Per run: a fresh system with the default layers (trigger off, k = 2, minimum contribution 1), fees and funding
// off; 100 of first-loss capital; a staker with 10,000 whose fund pays at most 200 a day; N members, each 5 in
// the members' fund and 1,000 in the clearing house. alice (6,100) buys 1 BTC at 60,000 from bob; BTC falls to
// 53,000: deficit 900 → first loss 100 → stakers 200 → members' fund 5N → assessments (≤ 10 each) → the rest
// socialized over bob. Measured: the keeper's liquidate, which makes all of these draws in one transaction.
//
// Isolated markets (same file): SOL-USD listed isolated, fees and funding off, on a system with the shared layers
// above. alice (1,100) buys 100 SOL at 100 from bob; SOL falls to 80: deficit 900. SOL's own fund is either a vault
// (10,000 staked, at most 200 a day: vault 200 → 700 socialized) or a DefaultLayers with the shared case's
// parameters and 2 members (first loss 100 → stakers 200 → members' fund 10 → assessments 20 → 570 socialized).
// The liquidator is an account with no other market (the isolation rule).
import { Wallet, keccak256, toUtf8Bytes } from "ethers";

import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";

import type { DefaultLayers, MockERC20 } from "../typechain-types/index.js";
import {
  BTC_MARKET,
  LAYER_PARAMS,
  LOSS_POLICY_SOCIALIZED,
  USD,
  WAD,
  deploySystemWithLayers,
  ethers,
  type System,
} from "../devnet/hardhat/fixture.js";
import { fundFirstLoss, layerEvents } from "../devnet/hardhat/layers.js";
import { listIsolatedSol, listIsolatedSolWithLayers } from "../devnet/hardhat/isolated.js";
import { mined, trade } from "../devnet/hardhat/trading.js";
import { quietMarkets, setFundLimits, setPrice, stake } from "../devnet/hardhat/waterfall.js";
import { writeJson } from "./lib/files.js";

const MEMBERS = [2, 8, 32];
const OUTPUT = "results/bench/layers-gas.json";

interface Figure {
  members: number;
  /** gasUsed of liquidate on the bankrupt account: pot, every layer, the socialized rest, receipt, hand-over. */
  liquidateThroughAllLayers: number;
  /** LayerDrawn amounts in the transaction, token units, in layer order. */
  layersPaid: string[];
  socialized: string;
}

interface IsolatedFigure {
  /** What SOL's own fund is. */
  fund: "vault" | "layers";
  /** gasUsed of liquidate on the bankrupt SOL account: SOL's pot, SOL's fund, the socialized rest, hand-over. */
  liquidateBankruptIsolated: number;
  /** Token units SOL's fund paid: the vault's Drawn, or each LayerDrawn in layer order. */
  fundPaid: string[];
  socialized: string;
}

/** The bench's layer parameters: the tests' with a 1-unit minimum contribution and the trigger off. */
const BENCH_LAYERS = { ...LAYER_PARAMS, minContribution: 1n, drawdownFraction: WAD };

/** `members` fresh accounts with 1,000 in the clearing house each join `layers` with 5. */
async function joinMembers(system: System, layers: DefaultLayers, members: number, funder: HardhatEthersSigner) {
  const { clearingHouse: ch, token } = system;
  for (let k = 0; k < members; k += 1) {
    const wallet = new Wallet(keccak256(toUtf8Bytes(`backstop-bench/layers/${k}`)), ethers.provider);
    await (await funder.sendTransaction({ to: wallet.address, value: WAD })).wait();
    await mined(token.mint(wallet.address, 1_005n * USD));
    await mined(token.connect(wallet).approve(await layers.getAddress(), ethers.MaxUint256));
    await mined(token.connect(wallet).approve(await ch.getAddress(), ethers.MaxUint256));
    await mined(ch.connect(wallet).deposit(1_000n * USD));
    await mined(layers.connect(wallet).join(5n * USD));
  }
}

async function measure(members: number): Promise<Figure> {
  const system = await deploySystemWithLayers(BENCH_LAYERS);
  const { clearingHouse: ch, traders } = system;
  const layers = system.layers;
  if (layers === undefined) throw new Error("no layers");
  const [alice, bob, keeper, staker, funder] = traders;
  await quietMarkets(system, false);
  await fundFirstLoss(system, 100n * USD);
  await stake(system.fund, staker, 10_000n * USD);
  await setFundLimits(system, 0n, 200n * USD);
  await joinMembers(system, layers, members, funder);
  await mined(ch.connect(alice).deposit(6_100n * USD));
  await mined(ch.connect(bob).deposit(100_000n * USD));
  await mined(ch.connect(keeper).deposit(100_000n * USD));
  await trade(ch, alice, bob, { marketId: BTC_MARKET, size: WAD, limitPrice: 60_000n * WAD }, WAD);
  await setPrice(system.btcFeed, 53_000n * WAD);

  const receipt = await mined(ch.connect(keeper).liquidate(alice.address, BTC_MARKET, ethers.MaxUint256));
  const events = layerEvents(system, receipt);
  const drawn = events.filter((e) => e.name === "LayerDrawn").map((e) => String(e.args[1]));
  const resolved = events.find((e) => e.name === "BadDebtResolved");
  if (resolved === undefined) throw new Error("no BadDebtResolved receipt");
  if (drawn.length !== 4) throw new Error(`expected all four layers to pay, got ${drawn.length}`);
  return {
    members,
    liquidateThroughAllLayers: Number(receipt.gasUsed),
    layersPaid: drawn,
    socialized: String(resolved.args[5]),
  };
}

async function measureIsolated(fund: "vault" | "layers"): Promise<IsolatedFigure> {
  const system = await deploySystemWithLayers(BENCH_LAYERS);
  const { clearingHouse: ch, token, traders, admin } = system;
  const [alice, bob, keeper, staker, funder] = traders;
  await quietMarkets(system, false);
  const quiet = { makerFeeRatio: 0n, takerFeeRatio: 0n };
  let vault;
  let marketId: bigint;
  let feed;
  let solLayers: DefaultLayers | undefined;
  if (fund === "vault") {
    const sol = await listIsolatedSol(system, LOSS_POLICY_SOCIALIZED, quiet);
    [vault, marketId, feed] = [sol.fund, sol.marketId, sol.feed];
  } else {
    const sol = await listIsolatedSolWithLayers(system, BENCH_LAYERS, LOSS_POLICY_SOCIALIZED, quiet);
    [vault, marketId, feed, solLayers] = [sol.stakers, sol.marketId, sol.feed, sol.layers];
    await fundFirstLossOf(token, sol.layers, system.treasury, 100n * USD);
    await joinMembers(system, sol.layers, 2, funder);
  }
  await stake(vault, staker, 10_000n * USD);
  await mined(vault.connect(admin).setParams(await vault.cooldown(), 0n, 200n * USD, await vault.drawWindow()));
  await mined(ch.connect(alice).deposit(1_100n * USD));
  await mined(ch.connect(bob).deposit(100_000n * USD));
  await mined(ch.connect(keeper).deposit(100_000n * USD));
  await trade(ch, alice, bob, { marketId, size: 100n * WAD, limitPrice: 100n * WAD }, 100n * WAD);
  await setPrice(feed, 80n * WAD);

  const receipt = await mined(ch.connect(keeper).liquidate(alice.address, marketId, ethers.MaxUint256));
  const resolved = receipt.logs
    .filter((l) => l.address === ch.target)
    .map((l) => ch.interface.parseLog(l))
    .find((e) => e?.name === "BadDebtResolved");
  if (resolved === undefined || resolved === null) throw new Error("no BadDebtResolved receipt");
  const source = solLayers ?? vault;
  const paid = receipt.logs
    .filter((l) => l.address === source.target)
    .map((l) => source.interface.parseLog(l))
    .filter((e) => e?.name === (solLayers === undefined ? "Drawn" : "LayerDrawn"))
    .map((e) => String(e?.args.getValue("amount")));
  // The vault's Drawn(amount) pays once; the layers' LayerDrawn(layer, amount) once per layer.
  if (paid.length !== (solLayers === undefined ? 1 : 4)) throw new Error(`unexpected draws: ${paid.join(", ")}`);
  return {
    fund,
    liquidateBankruptIsolated: Number(receipt.gasUsed),
    fundPaid: paid,
    socialized: String(resolved.args[5]),
  };
}

/** The treasury mints `amount` (token units) and puts it in `layers`' first loss. */
async function fundFirstLossOf(token: MockERC20, layers: DefaultLayers, treasury: HardhatEthersSigner, amount: bigint) {
  await mined(token.mint(treasury.address, amount));
  await mined(token.connect(treasury).approve(await layers.getAddress(), amount));
  await mined(layers.connect(treasury).fundFirstLoss(amount));
}

const figures: Figure[] = [];
for (const n of MEMBERS) {
  const figure = await measure(n);
  console.log(
    `${String(n).padStart(3)} members: liquidate through all layers ${figure.liquidateThroughAllLayers} gas ` +
      `(layers paid ${figure.layersPaid.join(" / ")} units; socialized ${figure.socialized} wei)`,
  );
  figures.push(figure);
}
const isolated: IsolatedFigure[] = [];
for (const fund of ["vault", "layers"] as const) {
  const figure = await measureIsolated(fund);
  console.log(
    `isolated market, fund = ${fund}: bankrupt liquidation ${figure.liquidateBankruptIsolated} gas ` +
      `(fund paid ${figure.fundPaid.join(" / ")} units; socialized ${figure.socialized} wei)`,
  );
  isolated.push(figure);
}
await writeJson(OUTPUT, { generatedAt: new Date().toISOString(), build: "production", figures, isolated });
console.log(`wrote ${OUTPUT}`);
