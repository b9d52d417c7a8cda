import { expect } from "chai";

import { USD, ethers, networkHelpers } from "../../devnet/hardhat/fixture.js";
import { mined } from "../../devnet/hardhat/trading.js";

/**
 * Probe of issue 9: a fee-on-transfer token staked straight into the insurance fund. The attacker stakes from
 * two accounts after an honest staker; had the fund credited the amount sent rather than received, each
 * share would be backed by less than it claims and the attacker's exit would take the honest staker's tokens.
 * The fund refuses any deposit that delivers other than the amount (TransferAmountMismatch), changing nothing.
 */
describe("Attack: fee-on-transfer token staked into the fund (issue 9, probe)", () => {
  it("a deposit that delivers 1% less is refused; no share is backed by less than it claims", async () => {
    const [admin, clearingHouse, honest, x1, x2] = await ethers.getSigners();
    const token = await ethers.deployContract("FeeOnTransferERC20");
    const fund = await ethers.deployContract("InsuranceFund", [
      await token.getAddress(),
      clearingHouse.address,
      admin.address,
      86_400n,
      0n,
      1_000_000n * USD,
      86_400n,
    ]);
    for (const s of [honest, x1, x2]) {
      await mined(token.mint(s.address, 10_000n * USD));
      await mined(token.connect(s).approve(await fund.getAddress(), ethers.MaxUint256));
    }
    let attackerValue = 0n;
    let attackerDelivered = 0n;
    for (const s of [honest, x1, x2]) {
      const held = await token.balanceOf(await fund.getAddress());
      try {
        await mined(fund.connect(s).deposit(1_000n * USD, s.address));
      } catch {
        // Refused.
      }
      if (s !== honest) attackerDelivered += (await token.balanceOf(await fund.getAddress())) - held;
    }
    for (const x of [x1, x2]) attackerValue += await fund.previewRedeem(await fund.balanceOf(x.address));
    // The attacker's shares may claim no more than its accounts delivered: otherwise it takes the honest stake.
    expect(attackerValue <= attackerDelivered, `claims ${attackerValue} for ${attackerDelivered} delivered`).to.equal(
      true,
    );
    await expect(fund.connect(x1).deposit(1_000n * USD, x1.address))
      .to.be.revertedWithCustomError(fund, "TransferAmountMismatch")
      .withArgs(1_000n * USD, 990n * USD);
    expect(await fund.totalSupply()).to.equal(0n);
    await networkHelpers.time.increase(1);
  });
});
