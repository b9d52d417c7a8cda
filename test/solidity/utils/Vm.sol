// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

/// @notice The cheatcodes these tests use (EDR implements the Foundry cheatcode interface). Nothing else is declared.
interface Vm {
    function warp(uint256 newTimestamp) external;
    function prank(address msgSender) external;
    function startPrank(address msgSender) external;
    function stopPrank() external;
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function expectRevert(bytes calldata revertData) external;
    function label(address account, string calldata newLabel) external;
}

/// @notice The cheatcode address: address(uint160(uint256(keccak256("hevm cheat code")))).
abstract contract CheatCodes {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
}

/// @notice Assertion and bounding helpers (there is no forge-std here). Every failed assertion reverts with a
/// message that prints both values.
abstract contract TestBase is CheatCodes {
    function assertEq(uint256 a, uint256 b, string memory what) internal pure {
        if (a != b) revert(string.concat(what, ": ", Strings.toString(a), " != ", Strings.toString(b)));
    }

    function assertEq(int256 a, int256 b, string memory what) internal pure {
        if (a != b) revert(string.concat(what, ": ", Strings.toStringSigned(a), " != ", Strings.toStringSigned(b)));
    }

    function assertEq(address a, address b, string memory what) internal pure {
        if (a != b) {
            revert(string.concat(what, ": ", Strings.toHexString(a), " != ", Strings.toHexString(b)));
        }
    }

    function assertEq(bool a, bool b, string memory what) internal pure {
        if (a != b) revert(string.concat(what, ": ", a ? "true" : "false", " != ", b ? "true" : "false"));
    }

    function assertTrue(bool condition, string memory what) internal pure {
        if (!condition) revert(string.concat(what, ": expected true"));
    }

    function assertLe(uint256 a, uint256 b, string memory what) internal pure {
        if (a > b) revert(string.concat(what, ": ", Strings.toString(a), " > ", Strings.toString(b)));
    }

    function assertLe(int256 a, int256 b, string memory what) internal pure {
        if (a > b) revert(string.concat(what, ": ", Strings.toStringSigned(a), " > ", Strings.toStringSigned(b)));
    }

    function assertLt(uint256 a, uint256 b, string memory what) internal pure {
        if (a >= b) revert(string.concat(what, ": ", Strings.toString(a), " >= ", Strings.toString(b)));
    }

    function assertLt(int256 a, int256 b, string memory what) internal pure {
        if (a >= b) revert(string.concat(what, ": ", Strings.toStringSigned(a), " >= ", Strings.toStringSigned(b)));
    }

    function assertGe(uint256 a, uint256 b, string memory what) internal pure {
        if (a < b) revert(string.concat(what, ": ", Strings.toString(a), " < ", Strings.toString(b)));
    }

    function assertGe(int256 a, int256 b, string memory what) internal pure {
        if (a < b) revert(string.concat(what, ": ", Strings.toStringSigned(a), " < ", Strings.toStringSigned(b)));
    }

    function assertGt(int256 a, int256 b, string memory what) internal pure {
        if (a <= b) revert(string.concat(what, ": ", Strings.toStringSigned(a), " <= ", Strings.toStringSigned(b)));
    }
}

/// @notice Maps fuzzer input into a range without rejecting it.
library Bound {
    /// @dev x mapped into [min, max] (uniform for uniform x, except the negligible modulo bias).
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        uint256 width = max - min;
        if (width == type(uint256).max) return x;
        return min + (x % (width + 1));
    }

    /// @dev x mapped into [min, max] for signed ranges.
    function bound(int256 x, int256 min, int256 max) internal pure returns (int256) {
        require(min <= max, "bound: min > max");
        // Shift into unsigned space: uint256(v) + 2^255 maps int256 order onto uint256 order.
        uint256 ux = _toOrdered(x);
        uint256 result = bound(ux, _toOrdered(min), _toOrdered(max));
        return int256(result ^ (uint256(1) << 255));
    }

    function _toOrdered(int256 v) private pure returns (uint256) {
        return uint256(v) ^ (uint256(1) << 255);
    }

    function abs(int256 x) internal pure returns (uint256) {
        return x >= 0 ? uint256(x) : uint256(-(x + 1)) + 1;
    }

    function sign(int256 x) internal pure returns (int256) {
        return x > 0 ? int256(1) : (x < 0 ? int256(-1) : int256(0));
    }
}
