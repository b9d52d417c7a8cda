// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title ReentrantERC1271Wallet
/// @notice An attacker's smart-contract wallet for the ERC-1271 re-entry regression (issue 9): asked whether a
/// signature is valid, it first calls the clearing house again with `reentryData` (a withdrawal, a second fill of
/// the same order, a cancel) and answers "valid" only if that call succeeded. The clearing house asks through a
/// static call and holds a re-entrancy guard, so the re-entry cannot succeed and the order is refused.
contract ReentrantERC1271Wallet {
    error NotOwner(address caller);
    error CallFailed(bytes reason);

    /// @notice The attacker's key, which may make the wallet call any contract.
    address public immutable owner;
    /// @notice The contract the wallet re-enters.
    address public immutable clearingHouse;
    /// @notice The call made from inside `isValidSignature`.
    bytes public reentryData;

    constructor(address owner_, address clearingHouse_) {
        owner = owner_;
        clearingHouse = clearingHouse_;
    }

    /// @notice Sets the call made on re-entry; owner only.
    /// @param data The calldata sent to the clearing house from inside `isValidSignature`.
    function setReentry(bytes calldata data) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        reentryData = data;
    }

    /// @notice Calls `to` with `data` as the wallet; owner only.
    /// @param to The contract to call.
    /// @param data The calldata.
    /// @return The call's return data.
    function execute(address to, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory result) = to.call(data);
        if (!ok) revert CallFailed(result);
        return result;
    }

    /// @notice ERC-1271: valid only if the re-entry succeeded.
    /// @return The ERC-1271 magic value when the re-entry succeeded, 0xffffffff otherwise.
    function isValidSignature(bytes32, bytes calldata) external returns (bytes4) {
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, ) = clearingHouse.call(reentryData);
        return ok ? bytes4(0x1626ba7e) : bytes4(0xffffffff);
    }
}
