import { expect } from "chai";
import { deploySystem, makeOrder, signOrder, networkHelpers, USD, WAD, ETH_MARKET } from "./helpers/fixture.js";

describe("smoke", () => {
  it("deposits, fills, views", async () => {
    const { clearingHouse, traders } = await networkHelpers.loadFixture(deploySystem);
    const [maker, taker] = traders;
    await clearingHouse.connect(maker).deposit(10_000n * USD);
    await clearingHouse.connect(taker).deposit(10_000n * USD);
    const order = await makeOrder(maker.address, { size: 2n * WAD });
    const sig = await signOrder(clearingHouse, maker, order);
    const tx = await clearingHouse.connect(taker).fillOrder(order, sig, WAD);
    const r = await tx.wait();
    console.log("fill gas", r?.gasUsed);
    const p = await clearingHouse.positionOf(maker.address, ETH_MARKET);
    expect(p.size).to.equal(WAD);
    const h = await clearingHouse.accountHealth(taker.address);
    console.log(h);
  });
});
