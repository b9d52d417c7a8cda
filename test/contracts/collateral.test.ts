import { expect } from "chai";

import {
  deployClearingHouse,
  BTC_MARKET,
  ETH_MARKET,
  INSURANCE_FEE_SHARE,
  SCALE,
  USD,
  WAD,
  deploySystem,
  ethers,
  networkHelpers,
} from "../../devnet/hardhat/fixture.js";
import { blockTimestampOf, collateralSnapshot, fill, positionsSnapshot } from "../../devnet/hardhat/collateral.js";

// Role ids, computed here rather than read from the contract.
const PAUSER_ROLE = ethers.id("PAUSER_ROLE");
const TREASURY_ROLE = ethers.id("TREASURY_ROLE");
// Each trader starts with 1,000,000 USD of the 6-decimal token.
const START_BALANCE = 1_000_000n * USD;
// 8-decimal feed answers.
const ETH_2000 = 2000n * 10n ** 8n;

describe("ClearingHouse collateral", () => {
  describe("deposit and depositFor", () => {
    it("deposit pulls token units from the caller and credits 1e12 internal units per token unit", async () => {
      const { clearingHouse, token, traders } = await networkHelpers.loadFixture(deploySystem);
      const [alice] = traders;
      const chAddress = await clearingHouse.getAddress();
      const amount = 1_234_567_891n; // 1,234.567891 USD

      await expect(clearingHouse.connect(alice).deposit(amount))
        .to.emit(clearingHouse, "Deposited")
        .withArgs(alice.address, alice.address, amount);

      expect(await clearingHouse.collateralOf(alice.address)).to.equal(1_234_567_891n * 10n ** 12n);
      expect(await token.balanceOf(alice.address)).to.equal(START_BALANCE - amount);
      expect(await token.balanceOf(chAddress)).to.equal(amount);

      // A second deposit adds up: 1,234.567891 + 0.000001 USD.
      await clearingHouse.connect(alice).deposit(1n);
      expect(await clearingHouse.collateralOf(alice.address)).to.equal(1_234_567_892n * 10n ** 12n);
      expect(await token.balanceOf(chAddress)).to.equal(1_234_567_892n);
    });

    it("depositFor credits the other account and pulls from the caller", async () => {
      const { clearingHouse, token, traders } = await networkHelpers.loadFixture(deploySystem);
      const [payer] = traders;
      const beneficiary = traders[12]; // holds no tokens
      const amount = 500n * USD;

      await expect(clearingHouse.connect(payer).depositFor(beneficiary.address, amount))
        .to.emit(clearingHouse, "Deposited")
        .withArgs(beneficiary.address, payer.address, amount);

      expect(await clearingHouse.collateralOf(beneficiary.address)).to.equal(500n * WAD);
      expect(await clearingHouse.collateralOf(payer.address)).to.equal(0n);
      expect(await token.balanceOf(payer.address)).to.equal(START_BALANCE - amount);
      expect(await token.balanceOf(beneficiary.address)).to.equal(0n);
      expect(await token.balanceOf(await clearingHouse.getAddress())).to.equal(amount);

      // The beneficiary owns the collateral: it can withdraw it, the payer cannot.
      await expect(clearingHouse.connect(payer).withdraw(1n))
        .to.be.revertedWithCustomError(clearingHouse, "InsufficientCollateral")
        .withArgs(payer.address, 0n, SCALE);
      await clearingHouse.connect(beneficiary).withdraw(amount);
      expect(await token.balanceOf(beneficiary.address)).to.equal(amount);
      expect(await clearingHouse.collateralOf(beneficiary.address)).to.equal(0n);
    });

    it("rejects a zero amount in deposit, depositFor and withdraw with ZeroAmount", async () => {
      const { clearingHouse, token, traders } = await networkHelpers.loadFixture(deploySystem);
      const [alice, bob] = traders;
      await clearingHouse.connect(alice).deposit(100n * USD);
      const before = await collateralSnapshot(clearingHouse, token, [alice.address, bob.address]);

      await expect(clearingHouse.connect(alice).deposit(0n)).to.be.revertedWithCustomError(clearingHouse, "ZeroAmount");
      await expect(clearingHouse.connect(alice).depositFor(bob.address, 0n)).to.be.revertedWithCustomError(
        clearingHouse,
        "ZeroAmount",
      );
      await expect(clearingHouse.connect(alice).withdraw(0n)).to.be.revertedWithCustomError(
        clearingHouse,
        "ZeroAmount",
      );

      expect(await collateralSnapshot(clearingHouse, token, [alice.address, bob.address])).to.deep.equal(before);
    });

    it("rejects depositFor(address(0)) with InvalidAddress", async () => {
      const { clearingHouse, token, traders } = await networkHelpers.loadFixture(deploySystem);
      const [alice] = traders;
      const before = await collateralSnapshot(clearingHouse, token, [alice.address, ethers.ZeroAddress]);

      await expect(clearingHouse.connect(alice).depositFor(ethers.ZeroAddress, USD))
        .to.be.revertedWithCustomError(clearingHouse, "InvalidAddress")
        .withArgs(ethers.ZeroAddress);

      expect(await collateralSnapshot(clearingHouse, token, [alice.address, ethers.ZeroAddress])).to.deep.equal(before);
    });
  });

  describe("withdraw", () => {
    it("sends token units to the caller and debits 1e12 internal units per token unit", async () => {
      const { clearingHouse, token, traders } = await networkHelpers.loadFixture(deploySystem);
      const [alice] = traders;
      await clearingHouse.connect(alice).deposit(1000n * USD);

      const amount = 250_500_000n; // 250.5 USD
      await expect(clearingHouse.connect(alice).withdraw(amount))
        .to.emit(clearingHouse, "Withdrawn")
        .withArgs(alice.address, amount);

      // 1000 − 250.5 = 749.5 USD left, in 18 decimals.
      expect(await clearingHouse.collateralOf(alice.address)).to.equal(7495n * 10n ** 17n);
      expect(await token.balanceOf(alice.address)).to.equal(START_BALANCE - 1000n * USD + amount);
      expect(await token.balanceOf(await clearingHouse.getAddress())).to.equal(749_500_000n);
    });

    it("reverts with InsufficientCollateral when asking more than the collateral with no position", async () => {
      const { clearingHouse, token, traders } = await networkHelpers.loadFixture(deploySystem);
      const [alice, stranger] = traders;
      await clearingHouse.connect(alice).deposit(100n * USD);
      const before = await collateralSnapshot(clearingHouse, token, [alice.address, stranger.address]);

      // One token unit more than the 100 USD held: 100,000,001 × 1e12 asked against 100e18.
      await expect(clearingHouse.connect(alice).withdraw(100n * USD + 1n))
        .to.be.revertedWithCustomError(clearingHouse, "InsufficientCollateral")
        .withArgs(alice.address, 100n * WAD, (100n * USD + 1n) * SCALE);
      // An account that never deposited.
      await expect(clearingHouse.connect(stranger).withdraw(1n))
        .to.be.revertedWithCustomError(clearingHouse, "InsufficientCollateral")
        .withArgs(stranger.address, 0n, SCALE);

      expect(await collateralSnapshot(clearingHouse, token, [alice.address, stranger.address])).to.deep.equal(before);

      // The whole balance is withdrawable.
      await clearingHouse.connect(alice).withdraw(100n * USD);
      expect(await clearingHouse.collateralOf(alice.address)).to.equal(0n);
      expect(await token.balanceOf(alice.address)).to.equal(START_BALANCE);
    });

    it("withdraws exactly down to initial margin and no further", async () => {
      const { clearingHouse, token, ethFeed, traders } = await networkHelpers.loadFixture(deploySystem);
      const [maker, taker] = traders;
      await clearingHouse.connect(maker).deposit(10_000n * USD);
      await clearingHouse.connect(taker).deposit(10_000n * USD);
      // Maker buys 1 ETH at the oracle price 2000: notional 2000, maker fee 2000 × 2bp = 0.4.
      await fill(clearingHouse, maker, taker, { isBuy: true, size: WAD, limitPrice: 2000n * WAD });
      await ethFeed.setAnswer(2100n * 10n ** 8n);

      // collateral = 10,000 − 0.4 = 9,999.6; uPnL = 1 × (2100 − 2000) = 100; equity = 10,099.6
      // IM = 1 × 2100 × 10% = 210; free = min(9,999.6, 10,099.6 − 210) = 9,889.6 USD.
      const free = 9_889_600_000n; // token units
      const health = await clearingHouse.accountHealth(maker.address);
      expect(health.collateral).to.equal(9_999_600_000n * SCALE);
      expect(health.equity).to.equal(10_099_600_000n * SCALE);
      expect(health.initialMargin).to.equal(210n * WAD);
      expect(health.freeCollateral).to.equal(free * SCALE);

      const before = await collateralSnapshot(clearingHouse, token, [maker.address]);
      const positionsBefore = await positionsSnapshot(clearingHouse, [maker.address], [ETH_MARKET]);
      // One token unit more: equity would be 10,099.6 − 9,889.600001 = 209.999999 < 210.
      await expect(clearingHouse.connect(maker).withdraw(free + 1n))
        .to.be.revertedWithCustomError(clearingHouse, "InsufficientMargin")
        .withArgs(maker.address, 209_999_999n * SCALE, 210n * WAD);
      expect(await collateralSnapshot(clearingHouse, token, [maker.address])).to.deep.equal(before);
      expect(await positionsSnapshot(clearingHouse, [maker.address], [ETH_MARKET])).to.deep.equal(positionsBefore);

      // Exactly the free collateral goes through and leaves equity == IM.
      await expect(clearingHouse.connect(maker).withdraw(free))
        .to.emit(clearingHouse, "Withdrawn")
        .withArgs(maker.address, free);
      expect(await token.balanceOf(maker.address)).to.equal(START_BALANCE - 10_000n * USD + free);
      // 9,999.6 − 9,889.6 = 110 left; equity 110 + 100 = 210 = IM.
      expect(await clearingHouse.collateralOf(maker.address)).to.equal(110n * WAD);
      const after = await clearingHouse.accountHealth(maker.address);
      expect(after.equity).to.equal(210n * WAD);
      expect(after.freeCollateral).to.equal(0n);

      // Now not even one token unit more.
      await expect(clearingHouse.connect(maker).withdraw(1n))
        .to.be.revertedWithCustomError(clearingHouse, "InsufficientMargin")
        .withArgs(maker.address, 210n * WAD - SCALE, 210n * WAD);
      expect(await clearingHouse.collateralOf(maker.address)).to.equal(110n * WAD);
    });

    it("never pays out unrealized profit: free collateral is capped by settled collateral", async () => {
      const { clearingHouse, token, ethFeed, traders } = await networkHelpers.loadFixture(deploySystem);
      const [maker, taker] = traders;
      await clearingHouse.connect(maker).deposit(10_000n * USD);
      await clearingHouse.connect(taker).deposit(10_000n * USD);
      await fill(clearingHouse, maker, taker, { isBuy: true, size: WAD, limitPrice: 2000n * WAD });
      await ethFeed.setAnswer(2500n * 10n ** 8n);

      // collateral 9,999.6; uPnL 500; equity 10,499.6; IM 250; equity − IM = 10,249.6 > collateral.
      // free = min(9,999.6, 10,249.6) = 9,999.6 USD.
      const free = 9_999_600_000n;
      expect((await clearingHouse.accountHealth(maker.address)).freeCollateral).to.equal(free * SCALE);

      const before = await collateralSnapshot(clearingHouse, token, [maker.address]);
      await expect(clearingHouse.connect(maker).withdraw(free + 1n))
        .to.be.revertedWithCustomError(clearingHouse, "InsufficientCollateral")
        .withArgs(maker.address, free * SCALE, (free + 1n) * SCALE);
      expect(await collateralSnapshot(clearingHouse, token, [maker.address])).to.deep.equal(before);

      await clearingHouse.connect(maker).withdraw(free);
      expect(await clearingHouse.collateralOf(maker.address)).to.equal(0n);
      // The position stays, backed by its unrealized profit: equity 500 ≥ IM 250.
      const after = await clearingHouse.accountHealth(maker.address);
      expect(after.equity).to.equal(500n * WAD);
      expect(after.initialMargin).to.equal(250n * WAD);
    });

    it("settles funding before checking margin; free collateral is net of funding owed", async () => {
      const { clearingHouse, token, ethFeed, traders } = await networkHelpers.loadFixture(deploySystem);
      const [maker, taker, c1, c2] = traders;
      await networkHelpers.time.increase(3600);
      await ethFeed.setAnswer(ETH_2000);
      for (const t of [maker, taker, c1, c2]) await clearingHouse.connect(t).deposit(1000n * USD);
      // c1 buys 1 ETH at the oracle from c2: the first open interest (its premium counts for nothing).
      await fill(clearingHouse, c1, c2, { isBuy: true, size: WAD, limitPrice: 2000n * WAD });
      // Maker buys 1 ETH at 2060 over an oracle of 2000: premium 3% on 1 ETH added to a base of 1.
      // Maker fee 2060 × 2bp = 0.412 → collateral 999.588.
      await fill(clearingHouse, maker, taker, { isBuy: true, size: WAD, limitPrice: 2060n * WAD });
      expect(await clearingHouse.collateralOf(maker.address)).to.equal(999_588_000n * SCALE);
      // An hour later a fill takes the sample in: held 1 of base 1, weight 3,600 × 1/2 = 1,800 s,
      // average 3% × 1,800 / 3,600 = 1.5%, stored at the 1%/day clamp.
      await networkHelpers.time.increase(3600);
      await ethFeed.setAnswer(ETH_2000);
      const fillTx = await fill(clearingHouse, c1, c2, {
        isBuy: true,
        size: WAD / 1000n,
        limitPrice: 2000n * WAD,
        nonce: 1n,
      });
      const filledAt = await blockTimestampOf(fillTx);
      expect(await clearingHouse.fundingRate(ETH_MARKET)).to.equal(WAD / 100n);

      // Withdraw half an hour later. The average falls 1% → 0.5%: index growth 1% × 1,800 − 1% × 1,800² / 7,200
      // = 13.5 rate·s → 13.5 × 2,000 / 86,400 = 0.3125 per unit; the 1 ETH long owes 0.3125.
      // equity = 999.588 − 60 (uPnL at 2000 vs 2060) − 0.3125 = 939.2755; IM = 200.
      // free = min(999.588 − 0.3125, 939.2755 − 200) = 739.2755 USD.
      const free = 739_275_500n;
      const before = await collateralSnapshot(clearingHouse, token, [maker.address]);
      await networkHelpers.time.setNextBlockTimestamp(filledAt + 1800n);
      await expect(clearingHouse.connect(maker).withdraw(free + 1n))
        .to.be.revertedWithCustomError(clearingHouse, "InsufficientMargin")
        .withArgs(maker.address, 199_999_999n * SCALE, 200n * WAD);
      expect(await collateralSnapshot(clearingHouse, token, [maker.address])).to.deep.equal(before);

      await networkHelpers.time.setNextBlockTimestamp(filledAt + 1800n);
      const tx = clearingHouse.connect(maker).withdraw(free);
      await expect(tx)
        .to.emit(clearingHouse, "FundingSettled")
        .withArgs(maker.address, ETH_MARKET, 3125n * 10n ** 14n);
      await expect(tx).to.emit(clearingHouse, "Withdrawn").withArgs(maker.address, free);
      expect(await blockTimestampOf(await tx)).to.equal(filledAt + 1800n);
      // 999.588 − 0.3125 − 739.2755 = 260 settled; equity 260 − 60 = 200 = IM.
      expect(await clearingHouse.collateralOf(maker.address)).to.equal(260n * WAD);
      const after = await clearingHouse.accountHealth(maker.address);
      expect(after.equity).to.equal(200n * WAD);
      expect(after.freeCollateral).to.equal(0n);
    });
  });

  describe("token checks", () => {
    it("refuses a fee-on-transfer token with TransferAmountMismatch and moves nothing", async () => {
      const { adapter, admin, traders } = await networkHelpers.loadFixture(deploySystem);
      const [alice, bob] = traders;
      const feeToken = await ethers.deployContract("FeeOnTransferERC20");
      const house = await deployClearingHouse([
        await feeToken.getAddress(),
        await adapter.getAddress(),
        admin.address,
        INSURANCE_FEE_SHARE,
      ]);
      await feeToken.mint(alice.address, 1000n * USD);
      await feeToken.connect(alice).approve(await house.getAddress(), ethers.MaxUint256);
      const before = await collateralSnapshot(house, feeToken, [alice.address, bob.address]);

      // 1% burnt in transit: 100 USD sent, 99 USD received.
      await expect(house.connect(alice).deposit(100n * USD))
        .to.be.revertedWithCustomError(house, "TransferAmountMismatch")
        .withArgs(100n * USD, 99n * USD);
      await expect(house.connect(alice).depositFor(bob.address, 100n * USD))
        .to.be.revertedWithCustomError(house, "TransferAmountMismatch")
        .withArgs(100n * USD, 99n * USD);

      expect(await collateralSnapshot(house, feeToken, [alice.address, bob.address])).to.deep.equal(before);
      expect(before.tokenBalances[0]).to.equal(1000n * USD);
      expect(before.clearingHouseBalance).to.equal(0n);
    });

    it("refuses a token with more than 18 decimals (UnsupportedTokenDecimals)", async () => {
      const { adapter, admin } = await networkHelpers.loadFixture(deploySystem);
      const args = async (decimals: number) => {
        const token = await ethers.deployContract("MockERC20", ["T", "T", decimals]);
        return [await token.getAddress(), await adapter.getAddress(), admin.address, INSURANCE_FEE_SHARE];
      };
      const reference = await deployClearingHouse(await args(18));

      await expect(deployClearingHouse(await args(19)))
        .to.be.revertedWithCustomError(reference, "UnsupportedTokenDecimals")
        .withArgs(19);
      await expect(deployClearingHouse(await args(24)))
        .to.be.revertedWithCustomError(reference, "UnsupportedTokenDecimals")
        .withArgs(24);
    });

    it("scales by 10^(18 − decimals): 18-decimal and 0-decimal tokens", async () => {
      const { adapter, admin, traders } = await networkHelpers.loadFixture(deploySystem);
      const [alice] = traders;
      for (const [decimals, deposited, internal] of [
        [18, 5n, 5n], // scale 1
        [0, 3n, 3n * WAD], // scale 1e18
      ] as const) {
        const token = await ethers.deployContract("MockERC20", ["T", "T", decimals]);
        const house = await deployClearingHouse([
          await token.getAddress(),
          await adapter.getAddress(),
          admin.address,
          INSURANCE_FEE_SHARE,
        ]);
        await token.mint(alice.address, deposited);
        await token.connect(alice).approve(await house.getAddress(), deposited);
        await house.connect(alice).deposit(deposited);
        expect(await house.collateralOf(alice.address)).to.equal(internal);
        await house.connect(alice).withdraw(deposited);
        expect(await house.collateralOf(alice.address)).to.equal(0n);
        expect(await token.balanceOf(alice.address)).to.equal(deposited);
      }
    });

    it("refuses zero addresses and an insurance share above 100% in the constructor", async () => {
      const { clearingHouse, token, adapter, admin } = await networkHelpers.loadFixture(deploySystem);
      const tokenAddress = await token.getAddress();
      const adapterAddress = await adapter.getAddress();
      const zero = ethers.ZeroAddress;

      for (const args of [
        [zero, adapterAddress, admin.address, INSURANCE_FEE_SHARE],
        [tokenAddress, zero, admin.address, INSURANCE_FEE_SHARE],
        [tokenAddress, adapterAddress, zero, INSURANCE_FEE_SHARE],
      ]) {
        await expect(deployClearingHouse(args))
          .to.be.revertedWithCustomError(clearingHouse, "InvalidAddress")
          .withArgs(zero);
      }
      await expect(deployClearingHouse([tokenAddress, adapterAddress, admin.address, WAD + 1n]))
        .to.be.revertedWithCustomError(clearingHouse, "InsuranceFeeShareOutOfBounds")
        .withArgs(WAD + 1n);
    });
  });

  describe("pause", () => {
    it("keeps deposit, depositFor and withdraw open while paused", async () => {
      const { clearingHouse, token, pauser, traders } = await networkHelpers.loadFixture(deploySystem);
      const [alice, bob] = traders;
      await clearingHouse.connect(alice).deposit(1000n * USD);

      await expect(clearingHouse.connect(pauser).pause()).to.emit(clearingHouse, "Paused").withArgs(pauser.address);
      expect(await clearingHouse.paused()).to.equal(true);

      // A trader must be able to top up during an incident: deposits stay open (issue 9, finding 8).
      await expect(clearingHouse.connect(alice).deposit(USD))
        .to.emit(clearingHouse, "Deposited")
        .withArgs(alice.address, alice.address, USD);
      await expect(clearingHouse.connect(alice).depositFor(bob.address, USD))
        .to.emit(clearingHouse, "Deposited")
        .withArgs(bob.address, alice.address, USD);
      expect(await clearingHouse.collateralOf(bob.address)).to.equal(WAD);

      await expect(clearingHouse.connect(alice).withdraw(400n * USD))
        .to.emit(clearingHouse, "Withdrawn")
        .withArgs(alice.address, 400n * USD);
      expect(await clearingHouse.collateralOf(alice.address)).to.equal(601n * WAD);
      expect(await token.balanceOf(alice.address)).to.equal(START_BALANCE - 602n * USD);

      await expect(clearingHouse.connect(pauser).unpause()).to.emit(clearingHouse, "Unpaused").withArgs(pauser.address);
      await clearingHouse.connect(alice).depositFor(bob.address, USD);
      expect(await clearingHouse.collateralOf(bob.address)).to.equal(2n * WAD);
    });

    it("lets only PAUSER_ROLE pause and unpause", async () => {
      const { clearingHouse, admin, pauser, traders } = await networkHelpers.loadFixture(deploySystem);
      const [alice] = traders;

      for (const caller of [admin, alice]) {
        await expect(clearingHouse.connect(caller).pause())
          .to.be.revertedWithCustomError(clearingHouse, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, PAUSER_ROLE);
      }
      expect(await clearingHouse.paused()).to.equal(false);

      await clearingHouse.connect(pauser).pause();
      for (const caller of [admin, alice]) {
        await expect(clearingHouse.connect(caller).unpause())
          .to.be.revertedWithCustomError(clearingHouse, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, PAUSER_ROLE);
      }
      expect(await clearingHouse.paused()).to.equal(true);

      // Pausing twice or unpausing an unpaused house are refused by OpenZeppelin's Pausable.
      await expect(clearingHouse.connect(pauser).pause()).to.be.revertedWithCustomError(clearingHouse, "EnforcedPause");
      await clearingHouse.connect(pauser).unpause();
      expect(await clearingHouse.paused()).to.equal(false);
      await expect(clearingHouse.connect(pauser).unpause()).to.be.revertedWithCustomError(
        clearingHouse,
        "ExpectedPause",
      );
    });
  });

  describe("account views with positions in both markets (cross margin)", () => {
    it("accountHealth, freeCollateral and collateralOf match a hand computation", async () => {
      const { clearingHouse, token, ethFeed, btcFeed, traders } = await networkHelpers.loadFixture(deploySystem);
      const [alice, bob, carol] = traders;
      await clearingHouse.connect(alice).deposit(10_000n * USD);
      await clearingHouse.connect(bob).deposit(100_000n * USD);
      await clearingHouse.connect(carol).deposit(100_000n * USD);

      // Alice (maker) buys 2 ETH at 2000 from Bob: notional 4000, Alice pays 2bp = 0.8, Bob 5bp = 2.
      await fill(clearingHouse, alice, bob, {
        isBuy: true,
        size: 2n * WAD,
        limitPrice: 2000n * WAD,
      });
      // Carol (maker) buys 0.1 BTC at 60,000; Alice takes, going short: notional 6000,
      // Carol pays 2bp = 1.2, Alice 5bp = 3.
      await fill(clearingHouse, carol, alice, {
        marketId: BTC_MARKET,
        isBuy: true,
        size: WAD / 10n,
        limitPrice: 60_000n * WAD,
      });
      await ethFeed.setAnswer(2100n * 10n ** 8n);
      await btcFeed.setAnswer(59_000n * 10n ** 8n);

      // Alice: collateral 10,000 − 0.8 − 3 = 9,996.2
      //   uPnL ETH = 2 × 2100 − 4000 = 200;  uPnL BTC = −0.1 × 59,000 + 6000 = 100
      //   equity = 9,996.2 + 300 = 10,296.2
      //   IM = 2 × 2100 × 10% + 0.1 × 59,000 × 10% = 420 + 590 = 1,010;  MM (5%) = 210 + 295 = 505
      //   free = min(9,996.2, 10,296.2 − 1,010) = 9,286.2
      expect(await clearingHouse.collateralOf(alice.address)).to.equal(99_962n * 10n ** 17n);
      const health = await clearingHouse.accountHealth(alice.address);
      expect(health.collateral).to.equal(99_962n * 10n ** 17n);
      expect(health.equity).to.equal(102_962n * 10n ** 17n);
      expect(health.initialMargin).to.equal(1010n * WAD);
      expect(health.maintenanceMargin).to.equal(505n * WAD);
      expect(health.freeCollateral).to.equal(92_862n * 10n ** 17n);
      expect([...(await clearingHouse.openMarketsOf(alice.address))]).to.deep.equal([ETH_MARKET, BTC_MARKET]);

      // Bob: short 2 ETH at 2000; collateral 100,000 − 2 = 99,998; uPnL −200; equity 99,798;
      //   IM 420, MM 210; free = min(99,998, 99,378) = 99,378.
      const bobHealth = await clearingHouse.accountHealth(bob.address);
      expect(bobHealth.collateral).to.equal(99_998n * WAD);
      expect(bobHealth.equity).to.equal(99_798n * WAD);
      expect(bobHealth.initialMargin).to.equal(420n * WAD);
      expect(bobHealth.maintenanceMargin).to.equal(210n * WAD);
      expect(bobHealth.freeCollateral).to.equal(99_378n * WAD);

      // Carol: long 0.1 BTC at 60,000; collateral 100,000 − 1.2 = 99,998.8; uPnL 5,900 − 6,000 = −100;
      //   equity 99,898.8; IM 590, MM 295; free = min(99,998.8, 99,308.8) = 99,308.8.
      const carolHealth = await clearingHouse.accountHealth(carol.address);
      expect(carolHealth.collateral).to.equal(999_988n * 10n ** 17n);
      expect(carolHealth.equity).to.equal(998_988n * 10n ** 17n);
      expect(carolHealth.initialMargin).to.equal(590n * WAD);
      expect(carolHealth.maintenanceMargin).to.equal(295n * WAD);
      expect(carolHealth.freeCollateral).to.equal(993_088n * 10n ** 17n);

      // An account with nothing.
      const empty = await clearingHouse.accountHealth(traders[13].address);
      expect([...empty]).to.deep.equal([0n, 0n, 0n, 0n, 0n]);

      // The cross-margin free collateral is exactly what withdraw accepts.
      const free = 9_286_200_000n;
      const before = await collateralSnapshot(clearingHouse, token, [alice.address]);
      // equity after = 10,296.2 − 9,286.200001 = 1,009.999999 < 1,010
      await expect(clearingHouse.connect(alice).withdraw(free + 1n))
        .to.be.revertedWithCustomError(clearingHouse, "InsufficientMargin")
        .withArgs(alice.address, 1_009_999_999n * SCALE, 1010n * WAD);
      expect(await collateralSnapshot(clearingHouse, token, [alice.address])).to.deep.equal(before);
      await clearingHouse.connect(alice).withdraw(free);
      // 9,996.2 − 9,286.2 = 710 settled.
      expect(await clearingHouse.collateralOf(alice.address)).to.equal(710n * WAD);
      expect((await clearingHouse.accountHealth(alice.address)).freeCollateral).to.equal(0n);
    });
  });

  describe("protocol fees", () => {
    // Maker buys 1.5 ETH at 2010 from the taker: notional 3015.
    //   maker fee 3015 × 2bp = 0.603, taker fee 3015 × 5bp = 1.5075, total 2.1105
    //   insurance 30%: 0.1809 + 0.45225 = 0.63315;  protocol: 0.4221 + 1.05525 = 1.47735
    async function tradedSystem() {
      const system = await deploySystem();
      const [maker, taker] = system.traders;
      await system.clearingHouse.connect(maker).deposit(10_000n * USD);
      await system.clearingHouse.connect(taker).deposit(10_000n * USD);
      await fill(system.clearingHouse, maker, taker, {
        isBuy: true,
        size: (3n * WAD) / 2n,
        limitPrice: 2010n * WAD,
      });
      return system;
    }

    it("splits fill fees between the protocol and the insurance fund", async () => {
      const { clearingHouse, traders } = await networkHelpers.loadFixture(tradedSystem);
      const [maker, taker] = traders;
      expect(await clearingHouse.protocolFees()).to.equal(1_477_350n * SCALE);
      expect(await clearingHouse.insuranceFees()).to.equal(633_150n * SCALE);
      expect(await clearingHouse.collateralOf(maker.address)).to.equal(9_999_397_000n * SCALE);
      expect(await clearingHouse.collateralOf(taker.address)).to.equal(9_998_492_500n * SCALE);
    });

    it("lets the treasury withdraw protocol fees in token units, up to what is held", async () => {
      const { clearingHouse, token, treasury, traders } = await networkHelpers.loadFixture(tradedSystem);
      const receiver = traders[14];
      const chAddress = await clearingHouse.getAddress();
      const chBalance = await token.balanceOf(chAddress);

      await expect(clearingHouse.connect(treasury).withdrawProtocolFees(receiver.address, USD))
        .to.emit(clearingHouse, "ProtocolFeesWithdrawn")
        .withArgs(receiver.address, USD);
      expect(await token.balanceOf(receiver.address)).to.equal(USD);
      expect(await token.balanceOf(chAddress)).to.equal(chBalance - USD);
      // 1.47735 − 1 = 0.47735 left; the insurance share is untouched.
      expect(await clearingHouse.protocolFees()).to.equal(477_350n * SCALE);
      expect(await clearingHouse.insuranceFees()).to.equal(633_150n * SCALE);

      const before = await collateralSnapshot(clearingHouse, token, [receiver.address]);
      await expect(clearingHouse.connect(treasury).withdrawProtocolFees(receiver.address, 477_351n))
        .to.be.revertedWithCustomError(clearingHouse, "InsufficientProtocolFees")
        .withArgs(477_350n * SCALE, 477_351n * SCALE);
      expect(await collateralSnapshot(clearingHouse, token, [receiver.address])).to.deep.equal(before);

      await clearingHouse.connect(treasury).withdrawProtocolFees(receiver.address, 477_350n);
      expect(await clearingHouse.protocolFees()).to.equal(0n);
      expect(await token.balanceOf(receiver.address)).to.equal(1_477_350n);
      await expect(clearingHouse.connect(treasury).withdrawProtocolFees(receiver.address, 1n))
        .to.be.revertedWithCustomError(clearingHouse, "InsufficientProtocolFees")
        .withArgs(0n, SCALE);
    });

    it("rejects a zero amount, the zero address and callers without TREASURY_ROLE", async () => {
      const { clearingHouse, token, admin, treasury, traders } = await networkHelpers.loadFixture(tradedSystem);
      const [maker] = traders;
      const receiver = traders[14];
      const before = await collateralSnapshot(clearingHouse, token, [receiver.address, maker.address]);

      await expect(
        clearingHouse.connect(treasury).withdrawProtocolFees(receiver.address, 0n),
      ).to.be.revertedWithCustomError(clearingHouse, "ZeroAmount");
      await expect(clearingHouse.connect(treasury).withdrawProtocolFees(ethers.ZeroAddress, USD))
        .to.be.revertedWithCustomError(clearingHouse, "InvalidAddress")
        .withArgs(ethers.ZeroAddress);
      for (const caller of [admin, maker]) {
        await expect(clearingHouse.connect(caller).withdrawProtocolFees(receiver.address, USD))
          .to.be.revertedWithCustomError(clearingHouse, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, TREASURY_ROLE);
      }

      expect(await collateralSnapshot(clearingHouse, token, [receiver.address, maker.address])).to.deep.equal(before);
    });
  });
});
