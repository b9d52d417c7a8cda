// Gas of one profit haircut (issue 10) with 1 and 1,000 other positions on the charged side, on the production
// build: `npm run bench:haircut`. Writes results/bench/haircut-gas.json. The charge sums the entry buckets on the
// losing side of the price, so its cost depends on how many of those are occupied, not on the number of positions:
// the other positions' entries are spread over 40 price levels (80 … 119), five of them (80 … 84) losers at 85.
//
// Per run: a fresh system with a third market (SOL at 100, policy haircut, no fees, no funding) and an empty fund;
// N wallets each short 0.1 SOL against a whale at 80 + (k mod 40); alice long 20 at 100 (deposit 250) against bob
// (short 20); SOL falls to 85: alice's deficit 50 is taken from the winners' profit. Measured: the keeper's
// liquidate (the charge, the receipt and the hand-over), bob's next withdrawal (settling his share, which writes his
// claim record), the keeper's repayClaims of 10 units and claimRepayment of bob's one record (issue 10, step 4).
//
// The same set-up under policy "adl" (issue 10, step 3) measures one enforced ADL step: the liquidation opens a case
// (the fund is empty), then the keeper deleverages 0.1 SOL of alice's position against a holder of the shorts' first
// entry bucket (bob at 100 with one other position at 80; with 1,000, a wallet at 119), whose order check reads the
// side's bitmaps whatever the number of positions; then repayClaims of what the step took and claimRepayment of the
// counterparty's ADL record.
import { Wallet, keccak256, toUtf8Bytes } from "ethers";

import { SHARED_CLAIMS_POOL, overshoot } from "#sdk";

import {
  LOSS_POLICY_ADL,
  LOSS_POLICY_HAIRCUT,
  USD,
  WAD,
  deploySystem,
  ethers,
  marketParams,
} from "../devnet/hardhat/fixture.js";
import { ORDER_TYPES, mined, orderDomain, trade } from "../devnet/hardhat/trading.js";
import { setPrice } from "../devnet/hardhat/waterfall.js";
import { writeJson } from "./lib/files.js";

const OTHERS = [1, 1_000];
const OUTPUT = "results/bench/haircut-gas.json";
const SOL = 2n;

interface Figure {
  otherPositions: number;
  /** gasUsed of liquidate on the bankrupt account: fund (empty), haircut charge, receipt, hand-over. */
  liquidateWithHaircut: number;
  /** gasUsed of a winner's withdraw that settles its share of the haircut and writes its claim record. */
  settleShare: number;
  /** gasUsed of repayClaims (10 units into the claims' pot). */
  repayClaims: number;
  /** gasUsed of claimRepayment of the winner's one record (one haircut charge in its window). */
  claimRepayment: number;
  /** What that claim credited (18 decimals). */
  claimRepaid: string;
  haircutTaken: string;
  shortfall: string;
  /** Taken from traders beyond what the fund could not pay: haircut + socialized + ADL − (shortfall − fund paid). */
  overshoot: string;
}

interface AdlFigure {
  otherPositions: number;
  /** gasUsed of liquidate on the bankrupt account in an ADL market with an empty fund: it opens the case. */
  liquidateOpensCase: number;
  /** gasUsed of autoDeleverage of 0.1 SOL against a holder of the shorts' first entry bucket. */
  adlStep: number;
  /** gasUsed of claimRepayment of that counterparty's ADL record, after repayClaims of what it took. */
  claimRepayment: number;
  /** What that step took from the counterparty (18 decimals). */
  taken: string;
}

/** The wallet that holds the k-th of the other positions (never sends a transaction). */
function otherWallet(k: number): Wallet {
  return new Wallet(keccak256(toUtf8Bytes(`backstop-bench/haircut/${k}`)));
}

/**
 * A system with SOL listed under `policy`, `others` shorts of 0.1 SOL entered at 80 + (k mod 40), bob short 20
 * against alice long 20 at 100, and SOL at 85: alice is bankrupt by 50 and the fund is empty.
 */
async function setUp(others: number, policy: bigint) {
  const system = await deploySystem();
  const { clearingHouse: ch, token, riskManager, traders } = system;
  const [whale, alice, bob, keeper] = traders;
  const feed = await ethers.deployContract("MockAggregatorV3", [8, "SOL / USD", 100n * 10n ** 8n]);
  await mined(
    ch.connect(riskManager).listMarket(
      marketParams(await feed.getAddress(), {
        lossPolicy: policy,
        makerFeeRatio: 0n,
        takerFeeRatio: 0n,
        maxFundingRate: 0n,
        oracleHeartbeat: 172_800n,
      }),
    ),
  );
  await mined(token.mint(whale.address, 10n ** 9n * USD));
  await mined(token.connect(whale).approve(await ch.getAddress(), ethers.MaxUint256));
  await mined(ch.connect(whale).deposit(10n ** 8n * USD));
  for (const [signer, amount] of [
    [alice, 250n],
    [bob, 10_000n],
    [keeper, 100_000n],
  ] as const) {
    await mined(ch.connect(signer).deposit(amount * USD));
  }

  // The other positions: wallets that never send a transaction, each short 0.1 SOL, collateral paid in by the whale.
  const domain = await orderDomain(ch);
  const levels = Array.from({ length: others }, (_, k) => k).sort((a, b) => (a % 40) - (b % 40));
  for (const k of levels) {
    const price = BigInt(80 + (k % 40)) * WAD;
    await setPrice(feed, price);
    const wallet = otherWallet(k);
    await mined(ch.connect(whale).depositFor(wallet.address, 100n * USD));
    const order = {
      maker: wallet.address,
      marketId: SOL,
      isBuy: false,
      size: WAD / 10n,
      limitPrice: price,
      expiry: 2n ** 40n,
      nonce: 0n,
      reduceOnly: false,
    };
    const signature = await wallet.signTypedData(domain, ORDER_TYPES, order);
    await mined(ch.connect(whale).fillOrder(order, signature, order.size));
  }
  await setPrice(feed, 100n * WAD);
  await trade(ch, bob, alice, { marketId: SOL, isBuy: false, size: 20n * WAD, limitPrice: 100n * WAD }, 20n * WAD);
  await setPrice(feed, 85n * WAD);
  return { ch, alice, bob, keeper };
}

async function measure(others: number): Promise<Figure> {
  const { ch, alice, bob, keeper } = await setUp(others, LOSS_POLICY_HAIRCUT);
  const liquidation = await mined(ch.connect(keeper).liquidate(alice.address, SOL, ethers.MaxUint256));
  const receipt = liquidation.logs
    .map((log) => {
      try {
        return ch.interface.parseLog(log);
      } catch {
        return null;
      }
    })
    .find((parsed) => parsed?.name === "BadDebtResolved");
  if (receipt === undefined || receipt === null) throw new Error("no BadDebtResolved receipt");
  const settle = await mined(ch.connect(bob).withdraw(1n * USD));
  const inflow = await mined(ch.connect(keeper).repayClaims(SHARED_CLAIMS_POOL, 10n * USD));
  const claim = await mined(ch.connect(keeper).claimRepayment(bob.address, 1n));
  return {
    otherPositions: others,
    liquidateWithHaircut: Number(liquidation.gasUsed),
    settleShare: Number(settle.gasUsed),
    repayClaims: Number(inflow.gasUsed),
    claimRepayment: Number(claim.gasUsed),
    claimRepaid: (await ch.claimsOf(bob.address)).repaid.toString(),
    haircutTaken: (receipt.args.haircut as bigint).toString(),
    shortfall: (receipt.args.shortfall as bigint).toString(),
    overshoot: overshoot({
      shortfall: receipt.args.shortfall as bigint,
      fundPaid: receipt.args.fundPaid as bigint,
      deleveraged: receipt.args.deleveraged as bigint,
      socialized: receipt.args.socialized as bigint,
      haircut: receipt.args.haircut as bigint,
    }).toString(),
  };
}

async function measureAdl(others: number): Promise<AdlFigure> {
  const { ch, alice, bob, keeper } = await setUp(others, LOSS_POLICY_ADL);
  const liquidation = await mined(ch.connect(keeper).liquidate(alice.address, SOL, ethers.MaxUint256));
  if (!(await ch.deleverageCaseOf(alice.address)).open) throw new Error("the liquidation opened no deleverage case");
  // The shorts' first entry bucket: bob's 100 above the one other at 80; with 1,000, the wallets at 119 (k = 39 …).
  const counterparty = others < 40 ? bob.address : otherWallet(39).address;
  const step = await mined(ch.connect(keeper).autoDeleverage(alice.address, SOL, counterparty, WAD / 10n));
  const taken = (await ch.claimsOf(counterparty)).paid;
  // Repays the step's whole claim (in token units; it is the only one outstanding).
  await mined(ch.connect(keeper).repayClaims(SHARED_CLAIMS_POOL, (taken * USD) / WAD));
  const claim = await mined(ch.connect(keeper).claimRepayment(counterparty, 1n));
  if ((await ch.claimsOf(counterparty)).repaid === 0n) throw new Error("the claim repaid nothing");
  return {
    otherPositions: others,
    liquidateOpensCase: Number(liquidation.gasUsed),
    adlStep: Number(step.gasUsed),
    claimRepayment: Number(claim.gasUsed),
    taken: taken.toString(),
  };
}

const figures: Figure[] = [];
for (const n of OTHERS) {
  const figure = await measure(n);
  console.log(
    `${String(n).padStart(5)} other positions: liquidate with haircut ${figure.liquidateWithHaircut} gas, ` +
      `settle one share ${figure.settleShare} gas (haircut ${figure.haircutTaken} of shortfall ${figure.shortfall} ` +
      `wei, overshoot ${figure.overshoot}); repayClaims ${figure.repayClaims} gas, claimRepayment ` +
      `${figure.claimRepayment} gas (${figure.claimRepaid} wei)`,
  );
  figures.push(figure);
}
const adl: AdlFigure[] = [];
for (const n of OTHERS) {
  const figure = await measureAdl(n);
  console.log(
    `${String(n).padStart(5)} other positions: liquidate opening an ADL case ${figure.liquidateOpensCase} gas, ` +
      `one ADL step ${figure.adlStep} gas (took ${figure.taken} wei), claimRepayment of its record ` +
      `${figure.claimRepayment} gas`,
  );
  adl.push(figure);
}
await writeJson(OUTPUT, { generatedAt: new Date().toISOString(), build: "production", figures, adl });
console.log(`wrote ${OUTPUT}`);
