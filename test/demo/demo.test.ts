import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { BrowserProvider } from "ethers";
import { network } from "hardhat";

import { readDeployment } from "../../sdk/files.js";
import { DEFAULT_OPTIONS, DemoFlagError, parseDemoFlags } from "../../scripts/demo/flags.js";
import type { WaterfallEvents } from "../../sdk/loss-events.js";
import { planCrash } from "../../devnet/scenario/plan.js";
import { runDemo, type DemoResult } from "../../scripts/demo/run.js";
import { usd } from "../../scripts/demo/format.js";
import { checkSolvency, failures } from "../../scripts/demo/solvency.js";
import type { SolvencyInput } from "../../scripts/demo/state.js";
import { priceSteps } from "../../scripts/demo/steps.js";
import { BackstopLens__factory, ClearingHouse__factory } from "../../typechain-types/index.js";
import { SHARED_CLAIMS_POOL } from "../../sdk/constants.js";

const WAD = 10n ** 18n;
const USD = 10n ** 6n;
const ROOT = path.resolve(import.meta.dirname, "../..");

describe("demo", function () {
  describe("runDemo with 16 traders", function () {
    // Deployment, 16 traders, three price steps and the keeper: a few seconds on a loaded machine.
    this.timeout(120_000);

    let connection: Awaited<ReturnType<typeof network.create>>;
    let result: DemoResult;
    const lines: string[] = [];
    before(async function () {
      connection = await network.create();
      const outDir = await mkdtemp(path.join(tmpdir(), "backstop-demo-"));
      const options = { ...DEFAULT_OPTIONS, seed: "ci", accounts: 16, outDir, quiet: true };
      result = await runDemo(options, { ethereum: connection.provider, print: (line) => lines.push(line) });
    });
    after(async function () {
      await connection.close();
    });

    it("works through the whole waterfall, passes its solvency check and writes the report", async function () {
      const { report, ok, files } = result;

      expect(failures(report.solvency)).to.deep.equal([]);
      expect(ok).to.equal(true);
      expect(report.reached).to.deep.equal({
        liquidation: true,
        fundDraw: true,
        assessments: true,
        adl: true,
        socialization: true,
      });
      expect(report.steps.map((s) => [s.step.kind, s.keeper.settled])).to.deep.equal([
        ["slide", true],
        ["slide", true],
        ["gap", true],
      ]);
      expect(lines.filter((l) => l.startsWith("step "))).to.have.length(3);
      expect(report.setup.traders).to.equal(16);
      expect(report.liquidations.count).to.be.greaterThan(0);

      // The fund before the crash holds the plan's stakes (the plan is pure: recomputed here from the seed).
      const plan = planCrash({
        accounts: 16,
        seed: "ci",
        prices: { eth: 2000n * WAD, btc: 60_000n * WAD },
        gap: { ethPct: -15, btcPct: -15 },
        stakers: 3,
      });
      expect(plan.stakes).to.have.length(3);
      expect(report.setup.stakers.map((s) => s.stake)).to.deep.equal(plan.stakes);
      expect(report.fundBefore.assets).to.equal(plan.stakes[0] + plan.stakes[1] + plan.stakes[2]);

      // The default layers: the treasury's 100, the stakes and the members' 3 × 50 used up, and the members
      // assessed their whole cap (2 × 50 each): the crash walks every layer. Each row's paid = Σ LayerDrawn.
      const layers = report.layers;
      if (layers === null) throw new Error("the demo deployed no default layers");
      const stakes = plan.stakes[0] + plan.stakes[1] + plan.stakes[2];
      expect(layers.rows.map((r) => [r.layer, r.before, r.paid, r.after])).to.deep.equal([
        ["first loss", 100n * USD, 100n * USD, 0n],
        ["stakers", stakes, stakes, 0n],
        ["members' fund", 150n * USD, 150n * USD, 0n],
        ["assessments", 300n * USD, 300n * USD, 0n],
      ]);
      expect(layers.assessed.map((a) => [a.asked, a.collected])).to.deep.equal([
        [100n * USD, 100n * USD],
        [100n * USD, 100n * USD],
        [100n * USD, 100n * USD],
      ]);
      const layerMarkdown = await readFile(files.markdown, "utf8");
      expect(layerMarkdown).to.include("| first loss | 100.00 | 100.00 | 0.00 |");
      expect(layerMarkdown).to.include("| assessments (cap left) | 300.00 | 300.00 | 0.00 |");
      const layersJson = (JSON.parse(await readFile(files.json, "utf8")) as { layers: { rows: { paid: string }[] } })
        .layers;
      // To the token's smallest unit in the JSON.
      expect(layersJson.rows.map((r) => r.paid)).to.deep.equal(["100000000", String(stakes), "150000000", "300000000"]);

      // ADL in ETH-USD with positive scores, socialization in BTC-USD, each receipt adding up.
      const adl = report.lossEvents.filter((e) => e.adlSteps.length > 0);
      const social = report.lossEvents.filter((e) => e.socialization !== undefined);
      expect(adl.length).to.be.greaterThan(0);
      expect(social.length).to.be.greaterThan(0);
      expect(adl.every((e) => e.receipt.marketId === 0 && e.adlSteps.every((s) => s.score > 0n))).to.equal(true);
      expect(social.every((e) => e.receipt.marketId === 1 && e.receipt.socializedPerUnit > 0n)).to.equal(true);
      const markdown = await readFile(files.markdown, "utf8");
      expect(markdown).to.match(/\| haircut \| overshoot \|/);
      for (const t of report.totals) {
        expect(t.shortfall, t.symbol).to.equal(t.fundPaid + t.deleveraged + t.socialized + t.haircut);
        // The overshoot column (taken from traders beyond what the fund could not pay) reads 0.00 in every row.
        expect(markdown, t.symbol).to.match(new RegExp(`^\\| ${t.symbol} \\|.*\\| 0\\.00 \\|$`, "m"));
      }

      // The chain agrees: no case open, the fund as reported, open interest balanced.
      const deployment = readDeployment(report.deploymentFile);
      const provider = new BrowserProvider(connection.provider);
      const ch = ClearingHouse__factory.connect(deployment.contracts.clearingHouse, provider);
      const lens = BackstopLens__factory.connect(deployment.contracts.lens, provider);
      expect(await ch.openDeleverageCases()).to.equal(0n);
      expect((await lens.fundState()).totalAssets).to.equal(report.fundAfter.assets);
      for (const marketId of [0, 1]) {
        const state = await ch.marketState(marketId);
        expect(state.longOpenInterest, `market ${marketId}`).to.equal(state.shortOpenInterest);
      }
      provider.destroy();

      const json = JSON.parse(await readFile(files.json, "utf8")) as { ok: boolean; options: { accounts: number } };
      expect(json.ok).to.equal(true);
      expect(json.options.accounts).to.equal(16);
      expect(await readFile(files.markdown, "utf8")).to.include("**Solvency check passed.**");
    });

    it("runs the three loss policies on the same crash; each row agrees with its deployment's events and views", async function () {
      const provider = new BrowserProvider(connection.provider);
      const rows = result.report.policies;
      expect(rows.map((r) => r.policy)).to.deep.equal(["adl", "socialized", "haircut"]);
      expect(result.policies.map((p) => p.row)).to.deep.equal(rows);
      const markdown = await readFile(result.files.markdown, "utf8");
      for (const run of result.policies) {
        const { row } = run;
        expect(run.settled, row.policy).to.equal(true);
        const ch = ClearingHouse__factory.connect(run.clearingHouse, provider);
        // Independent of the demo's reader: the raw logs of this deployment.
        const receipts = await ch.queryFilter(ch.filters.BadDebtResolved(), run.startBlock);
        const steps = await ch.queryFilter(ch.filters.Deleveraged(), run.startBlock);
        const recorded = await ch.queryFilter(ch.filters.LossEventRecorded(), run.startBlock);
        const shortfall = receipts.reduce((s, e) => s + e.args.shortfall - e.args.fundPaid, 0n);
        const taken = receipts.reduce((s, e) => s + e.args.deleveraged + e.args.socialized + e.args.haircut, 0n);
        expect(receipts.length, row.policy).to.be.greaterThan(0);
        expect(shortfall, row.policy).to.be.greaterThan(0n);
        expect(row.shortfall, row.policy).to.equal(shortfall);
        expect(row.taken, row.policy).to.equal(taken);
        // Taken is the shortfall to the wei under every policy; the overshoot column is computed, and 0.
        expect(taken, row.policy).to.equal(shortfall);
        expect(row.overshoot, row.policy).to.equal(0n);

        const closed = new Set(steps.map((e) => `${e.args.counterparty}/${e.args.marketId}`));
        expect(row.positionsClosed, row.policy).to.equal(closed.size);
        const cut = new Set(steps.map((e) => e.args.counterparty));
        expect(row.hedgedTraders, row.policy).to.equal(3);
        expect(row.hedgesBroken, row.policy).to.equal(run.hedgers.filter((h) => cut.has(h.address)).length);

        // Claims: every amount a rule took is one loss event; outstanding is what the views say is not funded.
        const [issued, inflow] = await ch.claimsTotals(SHARED_CLAIMS_POOL);
        expect(
          recorded.reduce((s, e) => s + e.args.amount, 0n),
          row.policy,
        ).to.equal(taken);
        expect(row.claimsIssued, row.policy).to.equal(issued);
        expect(issued, row.policy).to.equal(taken);
        expect(row.claimsOutstanding, row.policy).to.equal(issued - inflow);

        // The hedged traders' legs as the chain holds them: whole unless ADL cut them.
        const legs = await Promise.all(
          run.hedgers.map(async (h) => [
            (await ch.positionOf(h.address, 0)).size,
            (await ch.positionOf(h.address, 1)).size,
          ]),
        );
        const whole = run.hedgers.filter((h, i) => legs[i][0] === h.ethSize && legs[i][1] === -h.btcSize).length;
        expect(whole, row.policy).to.equal(row.hedgedTraders - row.hedgesBroken);
        expect(markdown).to.include(
          `| ${row.policy} | ${usd(row.shortfall)} | ${usd(row.taken)} | 0 | ${row.positionsClosed} |`,
        );
      }
      // Socialization and the haircut move no position, so the same crash gives them the same bad debt (ADL closes
      // positions, so later deficits may differ).
      const [adl, socialized, haircut] = rows;
      expect(socialized.badDebt).to.equal(haircut.badDebt);
      expect(adl.positionsClosed).to.be.greaterThan(0);
      expect(adl.deleveraged).to.be.greaterThan(0n);
      expect(socialized.positionsClosed).to.equal(0);
      expect(socialized.hedgesBroken).to.equal(0);
      expect(haircut.positionsClosed).to.equal(0);
      expect(haircut.hedgesBroken).to.equal(0);
      expect(haircut.haircut).to.be.greaterThan(0n);
      provider.destroy();
    });
  });

  describe("runDemo with a crash too small for bad debt", function () {
    this.timeout(120_000);

    it("says which waterfall steps it did not reach", async function () {
      const connection = await network.create();
      const outDir = await mkdtemp(path.join(tmpdir(), "backstop-demo-"));
      // A 5% fall: the most leveraged trader (9x) keeps 1 − 9 × 0.05 = 55% of its margin against a 43% need.
      const options = { ...DEFAULT_OPTIONS, seed: "ci", accounts: 12, crashPct: 5, outDir, quiet: true };
      const { report, ok, files } = await runDemo(options, { ethereum: connection.provider });
      expect(ok).to.equal(true);
      expect(report.reached).to.deep.equal({
        liquidation: false,
        fundDraw: false,
        assessments: false,
        adl: false,
        socialization: false,
      });
      // The layers are there, untouched: 100 first loss, the stakes, 3 × 50 members' fund, 3 × 2 × 50 to assess.
      expect(report.layers?.rows.map((r) => [r.layer, r.before, r.paid, r.after])).to.deep.equal([
        ["first loss", 100n * USD, 0n, 100n * USD],
        ["stakers", report.fundBefore.assets, 0n, report.fundBefore.assets],
        ["members' fund", 150n * USD, 0n, 150n * USD],
        ["assessments", 300n * USD, 0n, 300n * USD],
      ]);
      expect(report.lossEvents).to.deep.equal([]);
      expect(report.fundAfter.assets).to.equal(report.fundBefore.assets);
      expect(await readFile(files.markdown, "utf8")).to.include(
        "Not reached in this run: liquidations of solvent accounts, insurance-fund draws, " +
          "assessments on the clearing members, auto-deleveraging (ETH-USD), socialized loss (BTC-USD).",
      );
      await connection.close();
    });
  });

  describe("checkSolvency", function () {
    it("passes a consistent state and fails exactly the invariant each breakage violates", function () {
      expect(failures(checkSolvency(consistentInput()))).to.deep.equal([]);
      const broken = (change: (input: SolvencyInput) => void): string[] => {
        const input = consistentInput();
        change(input);
        return failures(checkSolvency(input)).map((r) => r.name);
      };
      expect(broken((i) => (i.state.markets[0].long += 1n))).to.deep.equal([
        "long OI = short OI",
        "OI = Σ position sizes",
      ]);
      expect(broken((i) => (i.events.receipts[0].shortfall += 1n))).to.deep.equal([
        "shortfall = fund + ADL + socialized (per receipt)",
      ]);
      expect(broken((i) => (i.state.fundBalance += 1n))).to.deep.equal([
        "tokens in = tokens held (clearing house + fund + layers)",
        "fund balance = stakes + fee income − draws − unstakes",
      ]);
      expect(broken((i) => (i.state.layersBalance += 1n))).to.deep.equal([
        "tokens in = tokens held (clearing house + fund + layers)",
        "layers balance = first loss + contributions + fees − to stakers − paid − left",
      ]);
      expect(broken((i) => (i.events.layerDraws[1].amount += 1n))).to.deep.equal([
        "stakers' layer = fund draws, assessments' layer = Σ collected",
      ]);
      expect(broken((i) => (i.events.assessments[0].collected -= 1n))).to.deep.equal([
        "stakers' layer = fund draws, assessments' layer = Σ collected",
      ]);
      expect(broken((i) => (i.events.layerDraws[0].amount += 1n))).to.deep.equal([
        "layers balance = first loss + contributions + fees − to stakers − paid − left",
      ]);
      expect(broken((i) => (i.state.accounts[0].equity += 1n))).to.deep.equal([
        "clearing house balance backs Σ equity + fees",
        "clearing house balance backs Σ positive equity + fees",
      ]);
      expect(broken((i) => (i.adlProfitBefore[0] = 49n * WAD))).to.deep.equal([
        "ADL loss ≤ counterparty's unrealized profit",
      ]);
      expect(broken((i) => (i.events.adlSteps[0].loss -= 1n))).to.deep.equal(["Σ ADL losses = receipt's deleveraged"]);
      expect(broken((i) => (i.events.fundDraws[0].amount -= 1n))).to.deep.equal(["fund draws = receipt's fundPaid"]);
      expect(
        broken((i) => {
          i.events.socializations[0].indexDelta -= 1n;
          i.events.receipts[1].socializedPerUnit -= 1n;
        }),
      ).to.deep.equal(["socialized per unit = ⌈amount / OI of the charged side⌉"]);
      expect(broken((i) => (i.state.accounts[2].collateral = -1n))).to.deep.equal([
        "no negative collateral on flat accounts without a case",
      ]);
      expect(broken((i) => (i.state.openDeleverageCases = 1n))).to.deep.equal([
        "bad debt resolved (no open case, no bankrupt account)",
      ]);
      expect(broken((i) => (i.state.fundSharesValue += 1n))).to.deep.equal(["fund balance backs its shares"]);
    });
  });

  describe("price steps", function () {
    it("falls a quarter, a half, then the whole crash at once", function () {
      const steps = priceSteps({ eth: 2000n * WAD, btc: 60_000n * WAD }, 15);
      // 2000 × (1 − 0.0375, 0.075, 0.15) and 60000 × the same.
      expect(steps.map((s) => [s.kind, s.cumulativePct, s.prices.eth / WAD, s.prices.btc / WAD])).to.deep.equal([
        ["slide", 3.75, 1925n, 57_750n],
        ["slide", 7.5, 1850n, 55_500n],
        ["gap", 15, 1700n, 51_000n],
      ]);
    });
  });

  describe("flags", function () {
    it("parses every flag in both forms, with defaults for the rest", function () {
      expect(parseDemoFlags([]).options).to.deep.equal(DEFAULT_OPTIONS);
      expect(
        parseDemoFlags(["--seed", "x", "--accounts=20", "--crash", "12.5%", "--out", "/tmp/o", "--quiet"]).options,
      ).to.deep.equal({ seed: "x", accounts: 20, crashPct: 12.5, outDir: "/tmp/o", quiet: true });
      expect(parseDemoFlags(["--help"]).help).to.equal(true);
    });

    it("names the bad flag and value", function () {
      const cases: [string[], string][] = [
        [["--accounts", "5"], "--accounts must be between 12 and 1000, got 5"],
        [["--accounts", "ten"], "--accounts must be a whole number, got 'ten'"],
        [["--crash", "-5"], "--crash must be a percentage such as 15 or 12.5, got '-5'"],
        [["--crash", "95"], "--crash must be between 1 and 80 percent, got 95"],
        [["--crash", "1.234"], "--crash must be a percentage such as 15 or 12.5, got '1.234'"],
        [["--seed"], "--seed needs a value"],
        [["--seed", ""], "--seed must not be empty"],
        [["--seed", "a", "--seed", "b"], "--seed given more than once"],
        [["--accounts-count", "3"], "unknown option --accounts-count"],
        [["20"], "unexpected argument '20'"],
      ];
      for (const [argv, message] of cases) {
        expect(() => parseDemoFlags(argv), argv.join(" ")).to.throw(DemoFlagError, message);
      }
    });

    it("exits with status 2 and one clear line for a bad flag, writing nothing", async function () {
      this.timeout(60_000);
      const outDir = path.join(await mkdtemp(path.join(tmpdir(), "backstop-demo-")), "out");
      const tsx = path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs");
      const child = spawn(process.execPath, [tsx, "scripts/demo.ts", "--accounts", "5", "--out", outDir], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      expect(code).to.equal(2);
      expect(stderr.split("\n")[0]).to.equal("demo: --accounts must be between 12 and 1000, got 5");
      expect(existsSync(outDir)).to.equal(false);
    });
  });
});

/**
 * A small state that satisfies every check, written by hand:
 * - A long 2 ETH (equity 590 after a 10 assessment), B short 2 ETH (equity 390), C and D flat after their bad
 *   debt (0); fees 5 + 5; clearing house balance 990 USD → 990 − 10 − 980 = 0 surplus.
 * - Default layers: the treasury's 60 first loss and A's 40 contribution. C's 100 from the layers: first loss
 *   60, stakers 30 (the fund's draw), members' fund 0, assessments 10 (A was asked 10 and paid it). Layers
 *   balance 60 + 40 − 60 = 40; fund 300 staked − 30 drawn = 270; clearing house 900 deposits + 100 − 10 = 990.
 *   Tokens: 900 + 300 + 60 + 40 in = 990 + 270 + 40 held.
 * - C's receipt: 150 = 100 from the fund + 50 from B by ADL (B's profit was 80).
 * - D's receipt: 10 socialized over 2 units of open interest: ⌈10 / 2⌉ = 5 per unit.
 */
function consistentInput(): SolvencyInput {
  const [a, b, c, d] = ["0xA", "0xB", "0xC", "0xD"].map((x) => x.padEnd(42, "0"));
  const at = (blockNumber: number, logIndex: number, txHash = `0x${blockNumber}`) => ({
    blockNumber,
    logIndex,
    txHash,
  });
  const events: WaterfallEvents = {
    liquidations: [],
    fundDraws: [{ ...at(10, 0), account: c, recipient: c, amount: 100n * WAD }],
    casesOpened: [{ ...at(9, 0), account: c, marketId: 0, shortfall: 150n * WAD, fundAvailable: 100n * WAD }],
    adlSteps: [
      {
        ...at(10, 1),
        account: c,
        counterparty: b,
        marketId: 0,
        size: WAD,
        price: 1800n * WAD,
        loss: 50n * WAD,
        score: WAD,
      },
    ],
    socializations: [{ ...at(12, 0), marketId: 0, longSide: false, amount: 10n * WAD, indexDelta: 5n * WAD }],
    receipts: [
      {
        ...at(10, 2),
        account: c,
        marketId: 0,
        shortfall: 150n * WAD,
        fundPaid: 100n * WAD,
        deleveraged: 50n * WAD,
        socialized: 0n,
        socializedPerUnit: 0n,
        haircut: 0n,
      },
      {
        ...at(12, 1),
        account: d,
        marketId: 0,
        shortfall: 10n * WAD,
        fundPaid: 0n,
        deleveraged: 0n,
        socialized: 10n * WAD,
        socializedPerUnit: 5n * WAD,
        haircut: 0n,
      },
    ],
    layerDraws: [
      { ...at(10, 0), layer: "first loss", amount: 60n * USD },
      { ...at(10, 0), layer: "stakers", amount: 30n * USD },
      { ...at(10, 0), layer: "assessments", amount: 10n * USD },
    ],
    assessments: [{ ...at(10, 0), member: a, asked: 10n * USD, collected: 10n * USD }],
    drawdowns: [],
    accounts: [a, b, c, d],
    flows: {
      deposited: 900n * USD,
      withdrawn: 0n,
      protocolFeesWithdrawn: 0n,
      staked: 300n * USD,
      unstaked: 0n,
      swept: 0n,
      drawn: 30n * USD,
      firstLossFunded: 60n * USD,
      contributed: 40n * USD,
      membersLeft: 0n,
      toStakers: 0n,
    },
  };
  const flat = (account: string) => ({
    account,
    collateral: 0n,
    equity: 0n,
    bankrupt: false,
    positions: [],
    openCase: false,
  });
  return {
    state: {
      block: 12,
      scale: 10n ** 12n,
      clearingHouseBalance: 990n * USD,
      fundBalance: 270n * USD,
      layersBalance: 40n * USD,
      hasLayers: true,
      fundSharesValue: 270n * USD,
      insuranceFees: 5n * WAD,
      protocolFees: 5n * WAD,
      openDeleverageCases: 0n,
      markets: [{ marketId: 0, long: 2n * WAD, short: 2n * WAD }],
      accounts: [
        {
          account: a,
          collateral: 590n * WAD,
          equity: 590n * WAD,
          bankrupt: false,
          positions: [{ marketId: 0, size: 2n * WAD }],
          openCase: false,
        },
        {
          account: b,
          collateral: 390n * WAD,
          equity: 390n * WAD,
          bankrupt: false,
          positions: [{ marketId: 0, size: -2n * WAD }],
          openCase: false,
        },
        flat(c),
        flat(d),
      ],
    },
    events,
    adlProfitBefore: [80n * WAD],
    chargedOpenInterest: [2n * WAD],
  };
}
