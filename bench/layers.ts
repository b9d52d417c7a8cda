// Gas of a bankrupt liquidation that walks every default layer (issue 11) with 2, 8 and 32 clearing members, on
// the production build: `npm run bench:layers`. Writes results/bench/layers-gas.json.
//
// Per run: a fresh system with the default layers (trigger off, k = 2, minimum contribution 1), fees and funding
// off; 100 of first-loss capital; a staker with 10,000 whose fund pays at most 200 a day; N members, each 5 in
// the members' fund and 1,000 in the clearing house. alice (6,100) buys 1 BTC at 60,000 from bob; BTC falls to
// 53,000: deficit 900 → first loss 100 → stakers 200 → members' fund 5N → assessments (≤ 10 each) → the rest
// socialized over bob. Measured: the keeper's liquidate, which makes all of these draws in one transaction.
import { Wallet, keccak256, toUtf8Bytes } from "ethers";

import { BTC_MARKET, LAYER_PARAMS, USD, WAD, deploySystemWithLayers, ethers } from "../devnet/hardhat/fixture.js";
import { fundFirstLoss, layerEvents } from "../devnet/hardhat/layers.js";
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

async function measure(members: number): Promise<Figure> {
  const system = await deploySystemWithLayers({ ...LAYER_PARAMS, minContribution: 1n, drawdownFraction: WAD });
  const { clearingHouse: ch, token, traders } = system;
  const layers = system.layers;
  if (layers === undefined) throw new Error("no layers");
  const [alice, bob, keeper, staker, funder] = traders;
  await quietMarkets(system, false);
  await fundFirstLoss(system, 100n * USD);
  await stake(system.fund, staker, 10_000n * USD);
  await setFundLimits(system, 0n, 200n * USD);
  for (let k = 0; k < members; k += 1) {
    const wallet = new Wallet(keccak256(toUtf8Bytes(`backstop-bench/layers/${k}`)), ethers.provider);
    await (await funder.sendTransaction({ to: wallet.address, value: WAD })).wait();
    await mined(token.mint(wallet.address, 1_005n * USD));
    await mined(token.connect(wallet).approve(await layers.getAddress(), ethers.MaxUint256));
    await mined(token.connect(wallet).approve(await ch.getAddress(), ethers.MaxUint256));
    await mined(ch.connect(wallet).deposit(1_000n * USD));
    await mined(layers.connect(wallet).join(5n * USD));
  }
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

const figures: Figure[] = [];
for (const n of MEMBERS) {
  const figure = await measure(n);
  console.log(
    `${String(n).padStart(3)} members: liquidate through all layers ${figure.liquidateThroughAllLayers} gas ` +
      `(layers paid ${figure.layersPaid.join(" / ")} units; socialized ${figure.socialized} wei)`,
  );
  figures.push(figure);
}
await writeJson(OUTPUT, { generatedAt: new Date().toISOString(), build: "production", figures });
console.log(`wrote ${OUTPUT}`);
