// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IInsuranceFund
/// @notice ERC-4626 vault over the collateral token that backs the clearing house. Stakers deposit
/// (stake), earn the fee share and liquidation fees the clearing house sends (streamed into the share price
/// over a period), and carry bad debt before anyone else. Leaving takes a request, a cooldown, a confirmation
/// within a bounded window, and an unstake at least EXIT_EXPOSURE after it (exitAt) that pays the smaller of the
/// value at request and the value at confirmation scaled by the losses up to exitAt (at most the value at exitAt),
/// and waits while bad debt is being deleveraged.
interface IInsuranceFund {
    /// @notice Only the clearing house may draw.
    error OnlyClearingHouse(address caller);
    /// @notice Plain ERC-4626 withdraw and redeem are closed: use requestUnstake, then unstake.
    error CooldownRequired();
    /// @notice The staker has no pending unstake request.
    error NoUnstakeRequest(address staker);
    /// @notice The cooldown of the request has not elapsed.
    error CooldownNotElapsed(address staker, uint256 readyAt);
    /// @notice A market has bad debt waiting for auto-deleveraging; unstakes wait until it is resolved.
    error BadDebtPending();
    /// @notice A parameter is outside its bounds.
    error FundParamOutOfBounds(string name, uint256 value, uint256 min, uint256 max);
    /// @notice An amount of zero was given.
    error ZeroUnstake();
    /// @notice The clearing house address was zero.
    error InvalidClearingHouse();
    /// @notice The request was already confirmed (it pays at `exitAt`); it can no longer grow or be confirmed.
    error UnstakeAlreadyConfirmed(address staker, uint256 exitAt);
    /// @notice The window to confirm the request closed at `closedAt`: cancel it and request again.
    error UnstakeWindowClosed(address staker, uint256 closedAt);
    /// @notice The request must be confirmed (confirmUnstake) before it can be paid.
    error UnstakeNotConfirmed(address staker);
    /// @notice A confirmed request pays only from `exitAt` on.
    error ExitExposureNotElapsed(address staker, uint256 exitAt);
    /// @notice The token delivered `received` instead of `expected` (fee-on-transfer tokens are not supported).
    error TransferAmountMismatch(uint256 expected, uint256 received);

    /// @notice The clearing house drew `amount` (token decimals).
    event Drawn(uint256 amount, uint256 balanceAfter);
    /// @notice `staker` escrowed `shares` worth `assets` for unstaking after `readyAt`.
    event UnstakeRequested(address indexed staker, uint256 shares, uint256 assets, uint256 readyAt);
    /// @notice `staker` unstaked `shares` for `assets` (see {unstake}).
    event Unstaked(address indexed staker, uint256 shares, uint256 assets);
    /// @notice `staker` confirmed its request; it pays from `exitAt` on.
    event UnstakeConfirmed(address indexed staker, uint256 exitAt);
    /// @notice `staker` took back `shares` of a pending request; `burnt` (its gains in escrow) went to the stakers.
    event UnstakeCancelled(address indexed staker, uint256 shares, uint256 burnt);
    /// @notice Fund parameters changed.
    event FundParamsUpdated(uint256 cooldown, uint256 floor, uint256 drawCap, uint256 drawWindow);

    /// @notice Pays up to `amount` (token decimals) to the clearing house, within the floor and the window cap.
    /// @return paid What was transferred.
    function draw(uint256 amount) external returns (uint256 paid);

    /// @notice What a draw could pay now (token decimals): the balance above the floor, capped by what is left
    /// of the current window's draw cap.
    function availableForDraw() external view returns (uint256);

    /// @notice Escrows `shares` of the caller for unstaking; adds to an unconfirmed request and restarts its
    /// cooldown. Escrowed shares bear losses and earn nothing.
    /// @param shares Shares to escrow.
    function requestUnstake(uint256 shares) external;

    /// @notice Confirms the caller's request, after the cooldown and within UNSTAKE_WINDOW of it: the exit decision.
    /// @return exitAt When the request may be paid (now + EXIT_EXPOSURE).
    function confirmUnstake() external returns (uint256 exitAt);

    /// @notice Pays the caller's confirmed request from its exitAt on: min(value at request, value at confirmation
    /// scaled by the losses up to exitAt), at most the value at exitAt; losses after exitAt are undone for it and
    /// fall on the other shares.
    /// @return assets What was paid (token decimals).
    function unstake() external returns (uint256 assets);

    /// @notice Starts streaming income (swept fees, donations) that arrived since the fund's last own transfer,
    /// with what is left of the current stream, over FEE_STREAM_PERIOD. Anyone may call it.
    function syncIncome() external;

    /// @notice Ends the caller's request, returning escrowed shares worth at most the value at request; the
    /// rest are burnt for the remaining stakers.
    /// @return returned Shares given back.
    function cancelUnstake() external returns (uint256 returned);
}
