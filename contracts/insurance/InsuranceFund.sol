// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IClearingHouse} from "../interfaces/IClearingHouse.sol";
import {IInsuranceFund} from "../interfaces/IInsuranceFund.sol";

/// @title InsuranceFund
/// @notice ERC-4626 vault of the collateral token that pays the clearing house's bad debt. See {IInsuranceFund}.
/// @dev Shares carry a decimals offset of 6 (OpenZeppelin's virtual shares): a first depositor who donates to
/// inflate the share price loses about a million times what the next depositor does. Escrowed unstake shares
/// stay in the supply, so a loss during the cooldown reaches them too; a gain does not (payout is capped at the
/// value at request) and stays with the remaining stakers.
contract InsuranceFund is IInsuranceFund, ERC4626, AccessControl {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Sets cooldown, floor and draw cap.
    bytes32 public constant FUND_MANAGER_ROLE = keccak256("FUND_MANAGER_ROLE");

    /// @notice Bounds of the unstake cooldown.
    uint256 public constant MIN_COOLDOWN = 1 minutes;
    /// @notice Bounds of the unstake cooldown.
    uint256 public constant MAX_COOLDOWN = 30 days;
    /// @notice Bounds of the draw-cap window.
    uint256 public constant MIN_DRAW_WINDOW = 1 minutes;
    /// @notice Bounds of the draw-cap window.
    uint256 public constant MAX_DRAW_WINDOW = 30 days;

    struct UnstakeRequest {
        uint128 shares;
        uint128 assets;
        uint64 readyAt;
    }

    /// @notice The only account that may draw.
    address public immutable clearingHouse;

    /// @notice Seconds between an unstake request and the unstake.
    uint64 public cooldown;
    /// @notice Length of a draw-cap window, in seconds.
    uint64 public drawWindow;
    /// @notice Start of the current draw-cap window.
    uint64 public windowStart;
    /// @notice Balance (token decimals) below which the fund does not pay.
    uint128 public floor;
    /// @notice Most the fund pays per window (token decimals).
    uint128 public drawCap;
    /// @notice Paid in the current window.
    uint128 public drawnInWindow;

    /// @notice Pending unstake requests by staker.
    mapping(address staker => UnstakeRequest) public unstakeRequests;

    /// @param asset_ The collateral token of the clearing house.
    /// @param clearingHouse_ The clearing house allowed to draw.
    /// @param admin Receives the admin and fund-manager roles.
    constructor(
        IERC20 asset_,
        address clearingHouse_,
        address admin,
        uint256 cooldown_,
        uint256 floor_,
        uint256 drawCap_,
        uint256 drawWindow_
    ) ERC20("Backstop Insurance Share", "bINS") ERC4626(asset_) {
        if (clearingHouse_ == address(0)) revert InvalidClearingHouse();
        clearingHouse = clearingHouse_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(FUND_MANAGER_ROLE, admin);
        _setParams(cooldown_, floor_, drawCap_, drawWindow_);
        windowStart = uint64(block.timestamp);
    }

    // ================================================================ clearing house

    /// @inheritdoc IInsuranceFund
    function draw(uint256 amount) external returns (uint256 paid) {
        if (msg.sender != clearingHouse) revert OnlyClearingHouse(msg.sender);
        _rollWindow();
        paid = Math.min(amount, availableForDraw());
        if (paid == 0) return 0;
        drawnInWindow += paid.toUint128();
        IERC20(asset()).safeTransfer(clearingHouse, paid);
        emit Drawn(paid, totalAssets());
    }

    /// @inheritdoc IInsuranceFund
    function availableForDraw() public view returns (uint256) {
        uint256 balance = totalAssets();
        uint256 aboveFloor = balance > floor ? balance - floor : 0;
        uint256 drawn = block.timestamp >= uint256(windowStart) + drawWindow ? 0 : drawnInWindow;
        uint256 leftInWindow = drawCap > drawn ? drawCap - drawn : 0;
        return Math.min(aboveFloor, leftInWindow);
    }

    // ================================================================ unstaking

    /// @inheritdoc IInsuranceFund
    function requestUnstake(uint256 shares) external {
        if (shares == 0) revert ZeroUnstake();
        uint256 assets = previewRedeem(shares);
        _transfer(msg.sender, address(this), shares);
        UnstakeRequest storage request = unstakeRequests[msg.sender];
        request.shares += shares.toUint128();
        request.assets += assets.toUint128();
        request.readyAt = uint64(block.timestamp + cooldown);
        emit UnstakeRequested(msg.sender, request.shares, request.assets, request.readyAt);
    }

    /// @inheritdoc IInsuranceFund
    function unstake() external returns (uint256 assets) {
        UnstakeRequest memory request = unstakeRequests[msg.sender];
        if (request.shares == 0) revert NoUnstakeRequest(msg.sender);
        if (block.timestamp < request.readyAt) revert CooldownNotElapsed(msg.sender, request.readyAt);
        if (IClearingHouse(clearingHouse).openDeleverageCases() != 0) revert BadDebtPending();
        assets = Math.min(request.assets, previewRedeem(request.shares));
        delete unstakeRequests[msg.sender];
        _burn(address(this), request.shares);
        IERC20(asset()).safeTransfer(msg.sender, assets);
        emit Unstaked(msg.sender, request.shares, assets);
    }

    /// @inheritdoc IInsuranceFund
    function cancelUnstake() external {
        UnstakeRequest memory request = unstakeRequests[msg.sender];
        if (request.shares == 0) revert NoUnstakeRequest(msg.sender);
        delete unstakeRequests[msg.sender];
        _transfer(address(this), msg.sender, request.shares);
        emit UnstakeCancelled(msg.sender, request.shares);
    }

    /// @notice Closed: unstaking goes through requestUnstake and unstake.
    function withdraw(uint256, address, address) public pure override returns (uint256) {
        revert CooldownRequired();
    }

    /// @notice Closed: unstaking goes through requestUnstake and unstake.
    function redeem(uint256, address, address) public pure override returns (uint256) {
        revert CooldownRequired();
    }

    /// @notice Always zero: see {withdraw}.
    function maxWithdraw(address) public pure override returns (uint256) {
        return 0;
    }

    /// @notice Always zero: see {redeem}.
    function maxRedeem(address) public pure override returns (uint256) {
        return 0;
    }

    // ================================================================ administration

    /// @notice Sets the cooldown, the floor, the draw cap and its window, inside bounds. Fund-manager role.
    function setParams(
        uint256 cooldown_,
        uint256 floor_,
        uint256 drawCap_,
        uint256 drawWindow_
    ) external onlyRole(FUND_MANAGER_ROLE) {
        _setParams(cooldown_, floor_, drawCap_, drawWindow_);
    }

    // ================================================================ internal

    function _setParams(uint256 cooldown_, uint256 floor_, uint256 drawCap_, uint256 drawWindow_) private {
        _check("cooldown", cooldown_, MIN_COOLDOWN, MAX_COOLDOWN);
        _check("floor", floor_, 0, type(uint128).max);
        _check("drawCap", drawCap_, 1, type(uint128).max);
        _check("drawWindow", drawWindow_, MIN_DRAW_WINDOW, MAX_DRAW_WINDOW);
        cooldown = uint64(cooldown_);
        floor = uint128(floor_);
        drawCap = uint128(drawCap_);
        drawWindow = uint64(drawWindow_);
        emit FundParamsUpdated(cooldown_, floor_, drawCap_, drawWindow_);
    }

    function _check(string memory name, uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max) revert FundParamOutOfBounds(name, value, min, max);
    }

    function _rollWindow() private {
        if (block.timestamp < uint256(windowStart) + drawWindow) return;
        windowStart = uint64(block.timestamp);
        drawnInWindow = 0;
    }

    function _decimalsOffset() internal pure override returns (uint8) {
        return 6;
    }
}
