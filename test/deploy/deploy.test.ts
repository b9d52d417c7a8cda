import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import { expect } from "chai";
import { Wallet, id } from "ethers";
import { network } from "hardhat";

import { networkParams } from "../../sdk/deploy/networks/index.js";
import {
  DRAWDOWN_TRIGGER,
  LOCAL_LAYERS,
  hardhat,
  localhost,
  withIsolatedExample,
} from "../../sdk/deploy/networks/local.js";
import { sepolia } from "../../sdk/deploy/networks/sepolia.js";
import { deployBackstop } from "../../sdk/deploy/system.js";
import type { NetworkParams } from "../../sdk/deploy/params.js";
import { readDeployment } from "../../sdk/files.js";
import { readParams } from "../../devnet/hardhat/collateral.js";

const WAD = 10n ** 18n;
const ADMIN_ROLE = "0x" + "00".repeat(32);
const RISK_MANAGER_ROLE = id("RISK_MANAGER_ROLE");
const PAUSER_ROLE = id("PAUSER_ROLE");
const TREASURY_ROLE = id("TREASURY_ROLE");
const FUND_MANAGER_ROLE = id("FUND_MANAGER_ROLE");

/** sdk/deploy/system.ts on the in-process network, checked by reading the deployed state back. */
// A network of its own: the deployer's nonces and the roles checked here are not shared with other test files.
const { ethers } = await network.create();

describe("deployBackstop", function () {
  async function tempDir(): Promise<string> {
    return mkdtemp(path.join(tmpdir(), "backstop-deploy-"));
  }

  it("deploys and wires the whole system, lists both markets, hands every role over and writes the file", async function () {
    const [deployer, admin, riskManager, pauser, treasury] = await ethers.getSigners();
    const dir = await tempDir();
    // Without layers: the clearing house draws on the fund directly (the local networks deploy with them; below).
    const params: NetworkParams = {
      ...hardhat,
      layers: undefined,
      roles: {
        admin: admin.address,
        riskManager: riskManager.address,
        pauser: pauser.address,
        treasury: treasury.address,
      },
    };
    const { contracts, deployment, path: file } = await deployBackstop(deployer, params, { dir });
    const { clearingHouse: ch, insuranceFund: fund, lens, oracleAdapter, collateralToken: token, feeds } = contracts;

    // The file: where it was asked, in the keeper's format, equal to what was returned.
    expect(file).to.equal(path.join(dir, "hardhat.json"));
    expect(readDeployment(file ?? "")).to.deep.equal(deployment);
    expect(deployment.network).to.equal("hardhat");
    expect(deployment.chainId).to.equal(31337);
    expect(deployment.markets).to.deep.equal([
      { id: 0, symbol: "ETH-USD", feed: await feeds[0].getAddress(), lossPolicy: "adl" },
      { id: 1, symbol: "BTC-USD", feed: await feeds[1].getAddress(), lossPolicy: "socialized" },
    ]);
    const chAddress = deployment.contracts.clearingHouse;
    const created = await ethers.provider.getTransactionReceipt(ch.deploymentTransaction()?.hash ?? "");
    expect(deployment.startBlock).to.equal(created?.blockNumber);

    // Links between the contracts, and the library linked into the clearing house's code.
    expect(await ch.collateralToken()).to.equal(deployment.contracts.collateralToken);
    expect(await ch.oracle()).to.equal(deployment.contracts.oracleAdapter);
    expect(await ch.insuranceFund()).to.equal(deployment.contracts.insuranceFund);
    expect(await fund.clearingHouse()).to.equal(chAddress);
    expect(await fund.asset()).to.equal(deployment.contracts.collateralToken);
    expect(await lens.clearingHouse()).to.equal(chAddress);
    const code = await ethers.provider.getCode(chAddress);
    expect(code).to.include(deployment.contracts.liquidationLogic.slice(2).toLowerCase());
    expect(await oracleAdapter.getAddress()).to.equal(deployment.contracts.oracleAdapter);

    // The mock token and feeds of the local parameters.
    expect([await token.name(), await token.symbol(), await token.decimals()]).to.deep.equal(["Mock USD", "mUSD", 6n]);
    expect(await feeds[0].decimals()).to.equal(8n);
    expect(await oracleAdapter.getPrice(feeds[0], 86_400n)).to.equal(2000n * WAD);
    expect(await oracleAdapter.getPrice(feeds[1], 86_400n)).to.equal(60_000n * WAD);

    // Market parameters: 10x initial, 20x maintenance, 1% discount and fee, 2/5 bp fees, 5% band, 1%/day, 1M cap,
    // no liquidation buffer (local networks: docs/DESIGN-NOTES.md, "Liquidation buffer").
    expect(await ch.marketCount()).to.equal(2n);
    for (const [marketId, policy] of [
      [0, 0n],
      [1, 1n],
    ] as const) {
      expect(await readParams(ch, BigInt(marketId))).to.deep.equal([
        deployment.markets[marketId].feed,
        86_400n,
        policy,
        WAD / 10n,
        WAD / 20n,
        WAD / 100n,
        WAD / 100n,
        2n * 10n ** 14n,
        5n * 10n ** 14n,
        WAD / 20n,
        WAD / 100n,
        1_000_000n * WAD,
        0n,
      ]);
    }
    expect(await ch.deleverageTimeout()).to.equal(60n);
    expect(await ch.insuranceFeeShare()).to.equal((3n * WAD) / 10n);
    expect([await fund.cooldown(), await fund.floor(), await fund.drawCap(), await fund.drawWindow()]).to.deep.equal([
      86_400n,
      0n,
      10n ** 18n,
      86_400n,
    ]);

    // Roles: each with its holder, none left with the deployer.
    const holders: [string, string][] = [
      [ADMIN_ROLE, admin.address],
      [RISK_MANAGER_ROLE, riskManager.address],
      [PAUSER_ROLE, pauser.address],
      [TREASURY_ROLE, treasury.address],
    ];
    for (const [role, holder] of holders) {
      expect(await ch.hasRole(role, holder), `${role} holder`).to.equal(true);
      expect(await ch.hasRole(role, deployer.address), `${role} deployer`).to.equal(false);
    }
    expect(await ch.hasRole(RISK_MANAGER_ROLE, admin.address)).to.equal(false);
    expect(await fund.hasRole(ADMIN_ROLE, admin.address)).to.equal(true);
    expect(await fund.hasRole(FUND_MANAGER_ROLE, admin.address)).to.equal(true);
    expect(await fund.hasRole(ADMIN_ROLE, deployer.address)).to.equal(false);
    expect(await fund.hasRole(FUND_MANAGER_ROLE, deployer.address)).to.equal(false);
    // The new risk manager can act; the deployer cannot any more.
    await ch.connect(riskManager).setDeleverageTimeout(120n);
    await expect(ch.connect(deployer).setDeleverageTimeout(90n))
      .to.be.revertedWithCustomError(ch, "AccessControlUnauthorizedAccount")
      .withArgs(deployer.address, RISK_MANAGER_ROLE);
  });

  it("leaves every role with the deployer when the parameters name no holder, and can skip the file", async function () {
    const [deployer] = await ethers.getSigners();
    const { contracts, path: file } = await deployBackstop(deployer, hardhat, { dir: null });
    expect(file).to.equal(undefined);
    for (const role of [ADMIN_ROLE, RISK_MANAGER_ROLE, PAUSER_ROLE, TREASURY_ROLE]) {
      expect(await contracts.clearingHouse.hasRole(role, deployer.address), role).to.equal(true);
    }
    expect(await contracts.insuranceFund.hasRole(FUND_MANAGER_ROLE, deployer.address)).to.equal(true);
  });

  it("uses an existing token and existing feeds as they are, deploying neither", async function () {
    const [deployer] = await ethers.getSigners();
    const token = await ethers.deployContract("MockERC20", ["Test USDC", "USDC", 6]);
    const ethFeed = await ethers.deployContract("MockAggregatorV3", [8, "ETH / USD", 3000n * 10n ** 8n]);
    const btcFeed = await ethers.deployContract("MockAggregatorV3", [8, "BTC / USD", 90_000n * 10n ** 8n]);
    const dir = await tempDir();
    const params: NetworkParams = {
      ...hardhat,
      layers: undefined,
      name: "testnet-like",
      collateral: { kind: "existing", address: await token.getAddress() },
      markets: [
        { ...hardhat.markets[0], feed: { kind: "existing", address: await ethFeed.getAddress() } },
        { ...hardhat.markets[1], feed: { kind: "existing", address: await btcFeed.getAddress() } },
      ],
    };
    const nonceBefore = await ethers.provider.getTransactionCount(deployer.address);
    const { deployment, contracts } = await deployBackstop(deployer, params, { dir });
    expect(deployment.contracts.collateralToken).to.equal(await token.getAddress());
    expect(deployment.markets.map((m) => m.feed)).to.deep.equal([
      await ethFeed.getAddress(),
      await btcFeed.getAddress(),
    ]);
    expect(await contracts.clearingHouse.collateralToken()).to.equal(await token.getAddress());
    expect(await contracts.oracleAdapter.getPrice(deployment.markets[1].feed, 86_400n)).to.equal(90_000n * WAD);
    // adapter, AllocationLogic, LiquidationLogic, FundingLogic, MemberReserveLib, FillLogic, clearing house, fund,
    // lens; then setInsuranceFund, grantRole, 2 × listMarket, setDeleverageTimeout, grant pauser, grant treasury: 16
    // transactions, no token or feed.
    expect((await ethers.provider.getTransactionCount(deployer.address)) - nonceBefore).to.equal(16);
    expect(await readdir(dir)).to.deep.equal(["testnet-like.json"]);
  });

  it("refuses a signer without a provider, before sending anything", async function () {
    const [deployer] = await ethers.getSigners();
    const offline = new Wallet(id("offline"));
    const nonce = await ethers.provider.getTransactionCount(deployer.address);
    await expect(deployBackstop(offline, hardhat, { dir: null })).to.be.rejectedWith(
      "deployBackstop: the signer is not connected to a provider",
    );
    expect(await ethers.provider.getTransactionCount(deployer.address)).to.equal(nonce);
  });
});

describe("deployment parameters", function () {
  it("names the networks hardhat.config.ts knows, the in-process one under both of its names", function () {
    expect(networkParams("default")).to.equal(hardhat);
    expect(networkParams("hardhat")).to.equal(hardhat);
    expect(networkParams("localhost").name).to.equal("localhost");
    expect(networkParams("sepolia")).to.equal(sepolia);
  });

  it("rejects an unknown network with the list of known ones", function () {
    expect(() => networkParams("mainnet")).to.throw(
      "no deployment parameters for network 'mainnet' (known: hardhat, localhost, sepolia)",
    );
  });

  it("points sepolia at Chainlink's feeds and Circle's USDC, with no secret in the file", function () {
    expect(sepolia.collateral).to.deep.equal({
      kind: "existing",
      address: "0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238",
    });
    expect(sepolia.markets.map((m) => [m.symbol, m.lossPolicy, m.feed])).to.deep.equal([
      ["ETH-USD", "adl", { kind: "existing", address: "0x694AA1769357215DE4FAC081bf1f309aDC325306" }],
      ["BTC-USD", "socialized", { kind: "existing", address: "0x1b44F3514812d835EB1BDB0acB33d3fA3351Ee43" }],
    ]);
  });

  it("with default layers (the local networks' parameters): the clearing house draws on them, the fund is their second layer, roles handed over", async function () {
    const [deployer, admin] = await ethers.getSigners();
    expect(hardhat.layers).to.equal(LOCAL_LAYERS);
    expect(localhost.layers).to.equal(LOCAL_LAYERS);
    const params: NetworkParams = { ...hardhat, roles: { admin: admin.address } };
    const { contracts, deployment } = await deployBackstop(deployer, params, { dir: null });
    const layers = contracts.defaultLayers;
    if (layers === undefined) throw new Error("no default layers deployed");
    const layersAddress = await layers.getAddress();
    expect(deployment.contracts.defaultLayers).to.equal(layersAddress);
    expect(await contracts.clearingHouse.insuranceFund()).to.equal(layersAddress);
    expect(await contracts.insuranceFund.clearingHouse()).to.equal(layersAddress);
    expect(await layers.stakers()).to.equal(deployment.contracts.insuranceFund);
    expect(await layers.clearingHouse()).to.equal(deployment.contracts.clearingHouse);
    expect(await layers.parameters()).to.deep.equal(Object.values(LOCAL_LAYERS));
    const manager = await layers.LAYERS_MANAGER_ROLE();
    expect(await layers.hasRole(ADMIN_ROLE, admin.address)).to.equal(true);
    expect(await layers.hasRole(manager, admin.address)).to.equal(true);
    expect(await layers.hasRole(ADMIN_ROLE, deployer.address)).to.equal(false);
    expect(await layers.hasRole(manager, deployer.address)).to.equal(false);
  });

  it("lists isolated markets from the parameters, each with its own vault or default layers (withIsolatedExample)", async function () {
    const [deployer, admin] = await ethers.getSigners();
    const params: NetworkParams = { ...withIsolatedExample(hardhat), roles: { admin: admin.address } };
    const { contracts, deployment } = await deployBackstop(deployer, params, { dir: null });
    const { clearingHouse: ch, lens, isolatedFunds } = contracts;
    expect(deployment.markets.map((m) => [m.id, m.symbol, m.lossPolicy])).to.deep.equal([
      [0, "ETH-USD", "adl"],
      [1, "BTC-USD", "socialized"],
      [2, "SOL-USD", "socialized"],
      [3, "AVAX-USD", "socialized"],
    ]);
    expect(isolatedFunds.map((f) => [f.marketId, f.symbol, f.name, f.kind])).to.deep.equal([
      [2, "SOL-USD", "sol-vault", "vault"],
      [3, "AVAX-USD", "avax-layers", "layers"],
    ]);
    const [sol, avax] = isolatedFunds;
    if (sol.kind !== "vault" || avax.kind !== "layers" || avax.stakers === undefined) throw new Error("wrong kinds");
    const [solFund, avaxLayers, avaxStakers] = await Promise.all(
      [sol.fund, avax.fund, avax.stakers].map((c) => c.getAddress()),
    );
    // On chain: the shared markets have no pool, each isolated one its own fund, none of them the shared layers.
    expect((await ch.isolatedPool(0)).fund).to.equal(ethers.ZeroAddress);
    expect((await ch.isolatedPool(1)).fund).to.equal(ethers.ZeroAddress);
    expect((await ch.isolatedPool(2)).fund).to.equal(solFund);
    expect((await ch.isolatedPool(3)).fund).to.equal(avaxLayers);
    expect(await ch.insuranceFund()).to.equal(deployment.contracts.defaultLayers);
    expect((await lens.isolatedFunds()).map((r) => [r.marketId, r.fund])).to.deep.equal([
      [2n, solFund],
      [3n, avaxLayers],
    ]);
    // SOL's vault is drawn by the clearing house; AVAX's layers by it too, their stakers by the layers.
    expect(await sol.fund.clearingHouse()).to.equal(deployment.contracts.clearingHouse);
    expect(await sol.fund.drawCap()).to.equal(hardhat.fund.drawCap);
    expect(await avax.fund.clearingHouse()).to.equal(deployment.contracts.clearingHouse);
    expect(await avax.fund.stakers()).to.equal(avaxStakers);
    expect(await avax.stakers.clearingHouse()).to.equal(avaxLayers);
    expect(await avax.fund.parameters()).to.deep.equal(Object.values({ ...LOCAL_LAYERS, ...DRAWDOWN_TRIGGER }));
    // Roles with the admin, none left with the deployer.
    const manager = await avax.fund.LAYERS_MANAGER_ROLE();
    for (const role of [ADMIN_ROLE, manager]) {
      expect(await avax.fund.hasRole(role, admin.address), role).to.equal(true);
      expect(await avax.fund.hasRole(role, deployer.address), role).to.equal(false);
    }
    for (const fund of [sol.fund, avax.stakers]) {
      expect(await fund.hasRole(FUND_MANAGER_ROLE, admin.address)).to.equal(true);
      expect(await fund.hasRole(FUND_MANAGER_ROLE, deployer.address)).to.equal(false);
    }
  });

  it("refuses isolated-market parameters that name an undeclared fund, one fund twice, or leave a fund unused, sending nothing", async function () {
    const [deployer] = await ethers.getSigners();
    const example = withIsolatedExample(hardhat);
    const [eth, btc, sol, avax] = example.markets;
    const cases: [NetworkParams, string][] = [
      [
        { ...example, markets: [eth, btc, { ...sol, isolatedFund: "sol" }, avax] },
        "network parameters 'hardhat': market SOL-USD names isolatedFund 'sol', which isolatedFunds does not " +
          "declare (declared: sol-vault, avax-layers)",
      ],
      [
        { ...example, markets: [eth, btc, sol, { ...avax, isolatedFund: "sol-vault" }] },
        "network parameters 'hardhat': market AVAX-USD names isolatedFund 'sol-vault', already used by SOL-USD: " +
          "an isolated market needs a fund of its own (a shared fund would carry one market's default into the other)",
      ],
      [
        { ...example, markets: [eth, btc, sol] },
        "network parameters 'hardhat': isolatedFunds 'avax-layers' is named by no market (give a market " +
          "isolatedFund: 'avax-layers' or remove it)",
      ],
      [
        { ...hardhat, markets: [eth, btc, { ...sol, isolatedFund: "sol-vault" }] },
        "network parameters 'hardhat': market SOL-USD names isolatedFund 'sol-vault', which isolatedFunds does " +
          "not declare (none is declared)",
      ],
      [
        { ...example, markets: [eth, btc, sol, { ...avax, symbol: "SOL-USD" }] },
        "network parameters 'hardhat': two markets are called SOL-USD",
      ],
    ];
    const nonce = await ethers.provider.getTransactionCount(deployer.address);
    for (const [params, message] of cases) {
      await expect(deployBackstop(deployer, params, { dir: null })).to.be.rejectedWith(message);
    }
    expect(await ethers.provider.getTransactionCount(deployer.address)).to.equal(nonce);
  });
});
