// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Order} from "../../../contracts/interfaces/IClearingHouse.sol";
import {OrderLib} from "../../../contracts/libraries/OrderLib.sol";
import {TestBase} from "../utils/Vm.sol";

/// @dev OrderLib takes the order from calldata: called through this contract.
contract OrderLibHarness {
    function structHash(Order calldata order) external pure returns (bytes32) {
        return OrderLib.structHash(order);
    }
}

/// @notice OrderLib's EIP-712 struct hash against values computed outside Solidity: the type string of
/// sdk/orders.ts's ORDER_TYPES and the struct hash ethers' TypedDataEncoder gives for the same order
/// (test/sdk/order-hash.test.ts checks the SDK's full digest against the clearing house's hashOrder).
contract OrderLibTest is TestBase {
    OrderLibHarness internal harness = new OrderLibHarness();

    /// keccak256 of the type string `TypedDataEncoder.from(ORDER_TYPES).encodeType("Order")` gives.
    function test_typeHash_isTheSdkType() public pure {
        assertEq(
            uint256(OrderLib.ORDER_TYPEHASH),
            uint256(
                keccak256(
                    "Order(address maker,uint256 marketId,bool isBuy,uint256 size,uint256 limitPrice,uint256 expiry,uint256 nonce,bool reduceOnly)"
                )
            ),
            "typehash"
        );
        assertEq(
            uint256(OrderLib.ORDER_TYPEHASH),
            0xac14dda40474af801ba525c11575ab502d91255d411a0ec9e0a2ca88c0b6a955,
            "typehash value"
        );
    }

    /// The struct hash of one order, as ethers' TypedDataEncoder.hashStruct("Order", …) computes it.
    function test_structHash_asEthersComputesIt() public view {
        Order memory order = Order({
            maker: 0x70997970C51812dc3A010C7d01b50e0d17dc79C8,
            marketId: 1,
            isBuy: true,
            size: 2.5e18,
            limitPrice: 60_000e18,
            expiry: 1_900_000_000,
            nonce: 42,
            reduceOnly: false
        });
        assertEq(
            uint256(harness.structHash(order)),
            0x0cb3dea16de8dce1cc6b81256b332f918b54e8b13cf73ac0c99fcb1470c4c459,
            "struct hash"
        );
    }
}
