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
/// inflate the share price loses about a million times what the next depositor does.
///
/// Income streams. Tokens that arrive other than by a deposit (the fees the clearing house sweeps, donations)
/// enter `totalAssets` linearly over FEE_STREAM_PERIOD from the first call that notices them (syncIncome, which
/// anyone may call, or any deposit, request, cancel, unstake or draw), so they go to whoever stakes while they vest, not to
/// whoever stakes just before a sweep. `accountedBalance` is the balance after the fund's last own transfer;
/// anything above it is income not yet streamed. A draw scales the unvested stream with the balance, so a loss
/// falls on vested and unvested value alike. Draws may use the whole balance.
///
/// Exits. requestUnstake escrows shares: they stay in the supply, so losses reach them, but the request pays at
/// most the value at request, so escrow earns nothing. After the cooldown, within UNSTAKE_WINDOW, the staker
/// confirms; the payout is made from EXIT_EXPOSURE later on, at min(value at request, value at confirm scaled by
/// the losses up to exitAt). Every event that lowers a share's value (a draw; a payout above the escrow's value
/// now) multiplies a cumulative loss factor, recorded in a checkpoint; the losses between confirm and exitAt are
/// the factor at exitAt over the factor at confirm. Since nothing else lowers a share's value, the payout is at
/// most the value at exitAt; income and other gains after the confirmation go to the stakers who stay. Waiting
/// after exitAt neither helps nor hurts: a staker who sees a loss coming on chain bears what keepers realize
/// within EXIT_EXPOSURE of its decision, and a matured request is no option to keep armed.
/// Cancelling returns only shares worth min(value at request, value now); the rest are burnt, so gains earned
/// in escrow go to the stakers who carried the risk.
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
    /// @notice Time after the cooldown in which a request may be confirmed; after it, it can only be cancelled.
    uint256 public constant UNSTAKE_WINDOW = 1 days;
    /// @notice Time between confirming an unstake and its payout, during which the escrow still bears losses.
    uint256 public constant EXIT_EXPOSURE = 1 hours;
    /// @notice Time over which income (swept fees, donations) enters the share price.
    uint256 public constant FEE_STREAM_PERIOD = 7 days;

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

    /// @dev A confirmed request: when it may be paid, the escrow's value at confirmation, and how many loss
    /// checkpoints existed then (the factor at confirm is the last of them).
    struct ConfirmedExit {
        uint64 exitAt;
        uint64 checkpointsAtConfirm;
        uint128 valueAtConfirm;
    }

    /// @notice Pending unstake requests by staker.
    mapping(address staker => UnstakeRequest) public unstakeRequests;
    mapping(address staker => ConfirmedExit) private _confirmedExits;

    /// @notice Token balance after the fund's last own transfer; income above it is not yet streamed.
    uint128 public accountedBalance;
    /// @notice Income streaming since `streamStart` (token decimals).
    uint128 public streamAmount;
    /// @notice Start of the current income stream.
    uint64 public streamStart;

    /// @dev After each loss: its time and the cumulative factor by which losses have scaled a share's value,
    /// mantissa / 2^shift with the mantissa kept in [2^127, 2^128) so that no series of losses rounds it to zero
    /// (1 = 2^127 / 2^127 before any). Factors only fall, so a later checkpoint never has a smaller shift.
    struct LossCheckpoint {
        uint64 time;
        uint64 shift;
        uint128 mantissa;
    }

    uint256 private constant MANTISSA_BITS = 128;
    LossCheckpoint[] private _lossCheckpoints;

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
        uint256 balance = _syncIncome();
        uint256 assetsBefore = _vestedAssets(balance);
        drawnInWindow += paid.toUint128();
        // The loss scales the unvested stream with the balance: vested and unvested value fall alike.
        streamAmount = Math.mulDiv(streamAmount, balance - paid, balance).toUint128();
        accountedBalance = (balance - paid).toUint128();
        // The supply does not change: only the assets' ratio counts.
        _recordLoss(assetsBefore, 0, _vestedAssets(balance - paid), 0);
        IERC20(asset()).safeTransfer(clearingHouse, paid);
        emit Drawn(paid, totalAssets());
    }

    /// @inheritdoc IInsuranceFund
    function availableForDraw() public view returns (uint256) {
        uint256 balance = _balance();
        uint256 aboveFloor = balance > floor ? balance - floor : 0;
        uint256 drawn = block.timestamp >= uint256(windowStart) + drawWindow ? 0 : drawnInWindow;
        uint256 leftInWindow = drawCap > drawn ? drawCap - drawn : 0;
        return Math.min(aboveFloor, leftInWindow);
    }

    // ================================================================ unstaking

    /// @inheritdoc IInsuranceFund
    function requestUnstake(uint256 shares) external {
        if (shares == 0) revert ZeroUnstake();
        uint256 confirmedExitAt = _confirmedExits[msg.sender].exitAt;
        if (confirmedExitAt != 0) revert UnstakeAlreadyConfirmed(msg.sender, confirmedExitAt);
        UnstakeRequest storage request = unstakeRequests[msg.sender];
        _syncIncome();
        uint256 assets = previewRedeem(shares);
        _transfer(msg.sender, address(this), shares);
        request.shares += shares.toUint128();
        request.assets += assets.toUint128();
        request.readyAt = uint64(block.timestamp + cooldown);
        emit UnstakeRequested(msg.sender, request.shares, request.assets, request.readyAt);
    }

    /// @inheritdoc IInsuranceFund
    function confirmUnstake() external returns (uint256 exitAt) {
        UnstakeRequest storage request = unstakeRequests[msg.sender];
        if (request.shares == 0) revert NoUnstakeRequest(msg.sender);
        uint256 confirmedExitAt = _confirmedExits[msg.sender].exitAt;
        if (confirmedExitAt != 0) revert UnstakeAlreadyConfirmed(msg.sender, confirmedExitAt);
        uint256 readyAt = request.readyAt;
        if (block.timestamp < readyAt) revert CooldownNotElapsed(msg.sender, readyAt);
        if (block.timestamp >= readyAt + UNSTAKE_WINDOW) {
            revert UnstakeWindowClosed(msg.sender, readyAt + UNSTAKE_WINDOW);
        }
        exitAt = block.timestamp + EXIT_EXPOSURE;
        // The losses counted from here are those of the checkpoints pushed from now on, this block's later
        // draws included.
        _confirmedExits[msg.sender] = ConfirmedExit({
            exitAt: uint64(exitAt),
            checkpointsAtConfirm: uint64(_lossCheckpoints.length),
            valueAtConfirm: previewRedeem(request.shares).toUint128()
        });
        emit UnstakeConfirmed(msg.sender, exitAt);
    }

    /// @inheritdoc IInsuranceFund
    function unstake() external returns (uint256 assets) {
        UnstakeRequest memory request = unstakeRequests[msg.sender];
        if (request.shares == 0) revert NoUnstakeRequest(msg.sender);
        ConfirmedExit memory confirmed = _confirmedExits[msg.sender];
        uint256 exitAt = confirmed.exitAt;
        if (exitAt == 0) revert UnstakeNotConfirmed(msg.sender);
        if (IClearingHouse(clearingHouse).openDeleverageCases() != 0) revert BadDebtPending();
        if (block.timestamp < exitAt) revert ExitExposureNotElapsed(msg.sender, exitAt);
        // Valued as of exitAt: the value at confirm with the losses up to exitAt; later losses fell on every
        // share, these included, and are undone for them; gains after the confirmation are not theirs.
        uint256 value = _afterLosses(confirmed.valueAtConfirm, confirmed.checkpointsAtConfirm, exitAt);
        uint256 balance = _syncIncome();
        uint256 assetsBefore = totalAssets();
        uint256 supplyBefore = totalSupply();
        uint256 valueNow = previewRedeem(request.shares);
        assets = Math.min(Math.min(request.assets, value), balance);
        delete unstakeRequests[msg.sender];
        delete _confirmedExits[msg.sender];
        _burn(address(this), request.shares);
        accountedBalance = (balance - assets).toUint128();
        // Paid above the escrow's value now (losses after exitAt undone): the difference is a loss of the others.
        if (assets > valueNow) {
            _recordLoss(assetsBefore, supplyBefore, _vestedAssets(balance - assets), supplyBefore - request.shares);
        }
        IERC20(asset()).safeTransfer(msg.sender, assets);
        emit Unstaked(msg.sender, request.shares, assets);
    }

    /// @inheritdoc IInsuranceFund
    function cancelUnstake() external returns (uint256 returned) {
        UnstakeRequest memory request = unstakeRequests[msg.sender];
        if (request.shares == 0) revert NoUnstakeRequest(msg.sender);
        _syncIncome();
        delete unstakeRequests[msg.sender];
        delete _confirmedExits[msg.sender];
        returned = request.shares;
        uint256 value = previewRedeem(returned);
        if (value > request.assets) {
            // Worth more than at request: return r shares with r × (A + 1) / (S − s + r + 10^6) ≤ a, i.e.
            // r = ⌊a × (S − s + 10^6) / (A + 1 − a)⌋ (A assets, S supply, s escrowed, a value at request), so that
            // after the rest is burnt the returned shares are worth at most a.
            uint256 othersShares = totalSupply() - request.shares + 10 ** _decimalsOffset();
            returned = Math.mulDiv(request.assets, othersShares, totalAssets() + 1 - request.assets);
            _burn(address(this), request.shares - returned);
        }
        _transfer(address(this), msg.sender, returned);
        emit UnstakeCancelled(msg.sender, returned, request.shares - returned);
    }

    /// @notice When a staker's confirmed request may be paid.
    /// @param staker The staker.
    /// @return exitAt Its confirmation time plus EXIT_EXPOSURE; 0 while unconfirmed.
    function unstakeExitAt(address staker) external view returns (uint256 exitAt) {
        return _confirmedExits[staker].exitAt;
    }

    /// @inheritdoc IInsuranceFund
    function syncIncome() external {
        _syncIncome();
    }

    /// @notice Assets that back shares: the balance minus income still streaming in (or not yet streaming).
    function totalAssets() public view override returns (uint256) {
        uint256 balance = _balance();
        return balance - Math.min(balance, _lockedIncome() + _newIncome(balance));
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

    /// @dev Pulls exactly `assets` (a token that delivers anything else is refused), after streaming any new
    /// income, so that the deposit is not mistaken for income.
    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal override {
        uint256 balance = _syncIncome();
        IERC20(asset()).safeTransferFrom(caller, address(this), assets);
        uint256 received = _balance() - balance;
        if (received != assets) revert TransferAmountMismatch(assets, received);
        accountedBalance = (balance + assets).toUint128();
        _mint(receiver, shares);
        emit Deposit(caller, receiver, assets, shares);
    }

    /// @dev Starts streaming income that arrived since the last own transfer, with what is still locked of the
    /// previous stream, over a new FEE_STREAM_PERIOD. Returns the balance.
    function _syncIncome() private returns (uint256 balance) {
        balance = _balance();
        uint256 income = _newIncome(balance);
        if (income == 0) return balance;
        streamAmount = (_lockedIncome() + income).toUint128();
        streamStart = uint64(block.timestamp);
        accountedBalance = balance.toUint128();
    }

    /// @dev `value` scaled by the losses after checkpoint `fromCount` up to and including those at `time`:
    /// value × factor(time) / factor(fromCount), rounded down. The checkpoint at `time` is the last one at or
    /// before it (binary search); it is never older than checkpoint `fromCount`, whose losses came before `time`.
    function _afterLosses(uint256 value, uint256 fromCount, uint256 time) private view returns (uint256) {
        uint256 low = fromCount;
        uint256 high = _lossCheckpoints.length;
        while (low < high) {
            uint256 mid = (low + high) / 2;
            if (_lossCheckpoints[mid].time <= time) low = mid + 1;
            else high = mid;
        }
        if (low == fromCount) return value;
        LossCheckpoint memory from = _lossCheckpoint(fromCount);
        LossCheckpoint memory to = _lossCheckpoints[low - 1];
        // (m_to / 2^s_to) / (m_from / 2^s_from) = (m_to / m_from) >> (s_to − s_from), and s_to ≥ s_from.
        uint256 shift = to.shift - from.shift;
        if (shift >= 256) return 0;
        return Math.mulDiv(value, to.mantissa, from.mantissa) >> shift;
    }

    /// @dev The factor after the first `count` checkpoints (1 when there are none).
    function _lossCheckpoint(uint256 count) private view returns (LossCheckpoint memory) {
        if (count == 0) return LossCheckpoint(0, uint64(MANTISSA_BITS - 1), uint128(1 << (MANTISSA_BITS - 1)));
        return _lossCheckpoints[count - 1];
    }

    /// @dev Records that a share's value (assets + 1) / (supply + 10^6), OpenZeppelin's virtual offsets, fell
    /// from the `before` pair to the `after` pair (equal supplies, as a draw passes them, are not read); callers
    /// pass supplyAfter ≤ supplyBefore, and when supplies differ only a fall. The factor m / 2^s is multiplied by r = (aA + 1)(sB + 10^6) / ((aB + 1)(sA +
    /// 10^6)) as m·2^127 × r, rounded down (losses never come out smaller than they were), then brought back to
    /// a 128-bit mantissa: r ≥ 1 / (aB + 1) > 2^-128 keeps the product above 2^126.
    function _recordLoss(uint256 assetsBefore, uint256 supplyBefore, uint256 assetsAfter, uint256 supplyAfter) private {
        uint256 offset = 10 ** _decimalsOffset();
        LossCheckpoint memory last = _lossCheckpoint(_lossCheckpoints.length);
        uint256 scaled = Math.mulDiv(uint256(last.mantissa) << (MANTISSA_BITS - 1), assetsAfter + 1, assetsBefore + 1);
        if (supplyBefore != supplyAfter) scaled = Math.mulDiv(scaled, supplyBefore + offset, supplyAfter + offset);
        if (scaled >= uint256(last.mantissa) << (MANTISSA_BITS - 1)) return;
        uint256 bits = Math.log2(scaled) + 1;
        uint256 shift = last.shift + MANTISSA_BITS - 1;
        uint256 mantissa;
        if (bits > MANTISSA_BITS) {
            mantissa = scaled >> (bits - MANTISSA_BITS);
            shift -= bits - MANTISSA_BITS;
        } else {
            mantissa = scaled << (MANTISSA_BITS - bits);
            shift += MANTISSA_BITS - bits;
        }
        _lossCheckpoints.push(LossCheckpoint(uint64(block.timestamp), shift.toUint64(), uint128(mantissa)));
    }

    /// @dev What backs shares once the balance is `balance` and no income is new: the balance less what still
    /// streams in.
    function _vestedAssets(uint256 balance) private view returns (uint256) {
        return balance - Math.min(balance, _lockedIncome());
    }

    function _balance() private view returns (uint256) {
        return IERC20(asset()).balanceOf(address(this));
    }

    function _newIncome(uint256 balance) private view returns (uint256) {
        return balance > accountedBalance ? balance - accountedBalance : 0;
    }

    /// @dev The part of the stream not yet vested, rounded up (against new value).
    function _lockedIncome() private view returns (uint256) {
        uint256 elapsed = block.timestamp - streamStart;
        if (elapsed >= FEE_STREAM_PERIOD) return 0;
        return Math.mulDiv(streamAmount, FEE_STREAM_PERIOD - elapsed, FEE_STREAM_PERIOD, Math.Rounding.Ceil);
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
