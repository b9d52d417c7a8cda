import { expect } from "chai";
import { MaxUint256, ZeroAddress } from "ethers";

import { orderHash, type SignedOrderFields } from "#sdk";
import { deploySystem, ethers, networkHelpers } from "../../devnet/hardhat/fixture.js";

/** The SDK's EIP-712 digest (what a maker signs) against the clearing house's own OrderLib hashing. */
describe("order hash: sdk/orders.ts equals ClearingHouse.hashOrder (OrderLib)", function () {
  it("agrees for orders covering every field, both sides, flags and extreme values", async function () {
    const system = await networkHelpers.loadFixture(deploySystem);
    const clearingHouse = await system.clearingHouse.getAddress();
    const { chainId } = await ethers.provider.getNetwork();
    const base: SignedOrderFields = {
      maker: system.traders[0].address,
      marketId: 0n,
      isBuy: true,
      size: 10n ** 18n,
      limitPrice: 2000n * 10n ** 18n,
      expiry: 1_900_000_000n,
      nonce: 0n,
      reduceOnly: false,
    };
    const orders: SignedOrderFields[] = [
      base,
      { ...base, isBuy: false },
      { ...base, reduceOnly: true },
      { ...base, marketId: 1n, size: 1n, limitPrice: 1n, nonce: 7n },
      { ...base, maker: ZeroAddress, size: MaxUint256, limitPrice: MaxUint256, expiry: MaxUint256, nonce: MaxUint256 },
    ];
    const hashes = new Set<string>();
    for (const order of orders) {
      const sdk = orderHash(order, Number(chainId), clearingHouse);
      expect(
        await system.clearingHouse.hashOrder(order),
        JSON.stringify(order, (_, v: unknown) => String(v)),
      ).to.equal(sdk);
      hashes.add(sdk);
    }
    // Every field is hashed: no two of these orders share a digest.
    expect(hashes.size).to.equal(orders.length);
    // The domain binds the chain and the contract.
    expect(orderHash(base, Number(chainId) + 1, clearingHouse)).not.to.equal(
      orderHash(base, Number(chainId), clearingHouse),
    );
    expect(orderHash(base, Number(chainId), ZeroAddress)).not.to.equal(orderHash(base, Number(chainId), clearingHouse));
  });
});
