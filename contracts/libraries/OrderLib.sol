// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Order} from "../interfaces/IClearingHouse.sol";

/// @title OrderLib
/// @notice EIP-712 struct hashing of signed orders.
library OrderLib {
    bytes32 internal constant ORDER_TYPEHASH = keccak256(
        "Order(address maker,uint256 marketId,bool isBuy,uint256 size,uint256 limitPrice,uint256 expiry,uint256 nonce,bool reduceOnly)"
    );

    /// @notice The EIP-712 struct hash of `order` (to be wrapped with the domain separator).
    function structHash(Order calldata order) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    ORDER_TYPEHASH,
                    order.maker,
                    order.marketId,
                    order.isBuy,
                    order.size,
                    order.limitPrice,
                    order.expiry,
                    order.nonce,
                    order.reduceOnly
                )
            );
    }
}
