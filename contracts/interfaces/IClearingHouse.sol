// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Re-exported for importers of this file (LossPolicy, Position and the others are not used here).
// solhint-disable no-unused-import
import {
    AccountHealth,
    AdlRank,
    ClaimRecord,
    ClaimSummary,
    ClaimsPool,
    DeleverageCase,
    HaircutSide,
    HaircutSnapshot,
    IsolatedPool,
    LossEvent,
    LossKind,
    LossPolicy,
    MarketParams,
    MarketState,
    Order,
    Position,
    PositionView
} from "./ClearingHouseTypes.sol";
// solhint-enable no-unused-import
import {IClearingHouseErrors} from "./IClearingHouseErrors.sol";
import {IClearingHouseEvents} from "./IClearingHouseEvents.sol";

/// @title IClearingHouse
/// @notice The single entry point of Backstop for traders: collateral, signed-order trading, funding, views.
/// Errors are in {IClearingHouseErrors}, events in {IClearingHouseEvents}, types in ClearingHouseTypes.sol (this
/// file re-exports them, so `import {MarketParams} from "IClearingHouse.sol"` keeps working).
/// @dev Token amounts passed in calls, and in the events that mirror them (Deposited, Withdrawn,
/// ProtocolFeesWithdrawn), are in the token's own decimals; internal accounting, every other event and all
/// views use 18 decimals. Rounding always favours the protocol.
interface IClearingHouse is IClearingHouseErrors, IClearingHouseEvents {
    // ---------------------------------------------------------------- collateral

    /// @notice Deposits `amount` of the collateral token (token decimals) from the caller into its own account.
    /// @param amount Token units to pull from the caller.
    function deposit(uint256 amount) external;

    /// @notice Deposits `amount` (token decimals) from the caller into `account`.
    /// @dev Reverts with {TransferAmountMismatch} if the contract receives anything but `amount`.
    /// @param account The account credited.
    /// @param amount Token units to pull from the caller.
    function depositFor(address account, uint256 amount) external;

    /// @notice Withdraws `amount` (token decimals) to the caller. Settles funding in all the caller's markets
    /// first; the caller must keep `equity ≥ initialMargin` and non-negative collateral. Never paused.
    /// @param amount Token units to send to the caller.
    function withdraw(uint256 amount) external;

    // ---------------------------------------------------------------- trading

    /// @notice Fills `fillSize` of a maker's signed order at its limit price; the caller is the taker.
    /// @dev The price must lie within the market's band around the oracle; both sides must meet initial
    /// margin afterwards unless the fill only reduces their position.
    /// @param order The maker's order.
    /// @param signature The maker's EIP-712 signature (ECDSA or ERC-1271).
    /// @param fillSize Base size to fill (18 decimals), at most what is left of the order.
    /// @return orderHash The EIP-712 digest of the order.
    function fillOrder(
        Order calldata order,
        bytes calldata signature,
        uint256 fillSize
    ) external returns (bytes32 orderHash);

    /// @notice Cancels one order; only its maker may.
    /// @param order The order to cancel.
    function cancelOrder(Order calldata order) external;

    /// @notice Invalidates every order of the caller with a nonce below `minValidNonce`.
    /// @param minValidNonce The new lowest valid nonce; must be above the current one.
    function cancelOrdersBelowNonce(uint256 minValidNonce) external;

    // ---------------------------------------------------------------- loss waterfall

    /// @notice Liquidates `account` in `marketId`; anyone may call when equity < maintenance margin. The
    /// caller takes over the position and must stay above initial margin.
    /// @dev Solvent account: at most `size`, and no more than restores maintenance margin (all of it when
    /// the rest would be dust), at the oracle price moved against the account by the liquidation discount
    /// (the caller's reward); a liquidation fee goes to the insurance fund; reward and fee never push equity
    /// below zero. Bankrupt account (equity < 0): the whole position passes to the caller at the oracle
    /// price with no reward; a position that is not the account's last must not be its largest by notional
    /// ({LargestPositionGoesLast}). When it is the last, the deficit is realized first, before the position
    /// moves: the fund pays what it can; the rest is socialized over the other side of the market as it stands
    /// (the caller's own position included; policy Socialized), or first taken from that side's profit, pro rata to
    /// profit and at most its net profit, the rest socialized (policy Haircut; positions stay open), or, in an ADL
    /// market, waits for
    /// autoDeleverage — then this call opens a
    /// deleverage case instead of moving the position, and later calls revert {DeleverageInProgress} while the
    /// account is bankrupt. Once it has recovered, a call closes the case (and stops there if the account is
    /// no longer liquidatable).
    /// @param account The account liquidated.
    /// @param marketId The market whose position is taken over.
    /// @param size Most base size to take from a solvent account (a bankrupt account's position passes whole).
    function liquidate(address account, uint256 marketId, uint256 size) external;

    /// @notice Liquidates every position of a bankrupt account (equity < 0) in one call; anyone but the account may
    /// call. The result is, to the wei, that of calling {liquidate} on each of its markets in turn, every other
    /// position first and the largest by notional (the first of equals) last, in one block.
    /// @dev Every position passes whole to the caller at the oracle price, with no reward; the deficit is realized
    /// once, with the largest, as {liquidate} realizes it with a last position (in an ADL market whose fund cannot
    /// pay it, a deleverage case opens and that position stays). Emits one {Liquidated} per position moved. The
    /// caller must end above initial margin (or, when every position it was handed only reduced its own, with
    /// equity ≥ 0). Reverts {NotBankrupt} if the account's equity is not below zero, or becomes so as the
    /// hand-overs round in its favour (use {liquidate}), {DeleverageInProgress} while its case is open,
    /// {NoOpenPositions} when it holds none, and {SelfLiquidation} for the account itself.
    /// @param account The bankrupt account.
    function liquidateAccount(address account) external;

    /// @notice Closes up to `size` of a bankrupt account's position against a profitable opposite position,
    /// which gives up its pro rata share of what the insurance fund cannot pay. Anyone may call.
    /// @dev Checks: an open deleverage case in `marketId`, negative equity, the counterparty on the other side
    /// and in profit, and that the counterparty gives up no more than the unrealized profit of the part closed.
    /// The fund pays only once the account holds no position: after the last part, or at once when what it can
    /// pay covers the whole deficit — then the caller takes the whole position over at the oracle price, as in
    /// a liquidation (and must meet the same margin), and the case closes.
    /// @param account The bankrupt account with an open deleverage case.
    /// @param marketId The market of the case.
    /// @param counterparty The profitable opposite position that takes part of the bankrupt position back.
    /// @param size Most base size to close in this step.
    function autoDeleverage(address account, uint256 marketId, address counterparty, uint256 size) external;

    /// @notice After the deleverage timeout, socializes what the fund cannot pay over the counterparties' side
    /// as it stands (the caller's own position included), then hands the rest of the stuck position to the
    /// caller at the oracle price.
    /// @param account The bankrupt account whose case has timed out.
    function socializeAfterTimeout(address account) external;

    /// @notice Pays the fees set aside for the insurance fund first to the outstanding claims of the shared pool
    /// (they stay here as the claims' pot, see claimRepayment), then the rest to the fund in whole token units,
    /// starting the fund's income stream at this block (IInsuranceFund.syncIncome). Anyone may call.
    function sweepInsuranceFees() external;

    /// @notice Credits `account` with what its claims may be repaid now: every amount an ADL step, a profit haircut
    /// or a socialization took from it is repaid from claim inflows in order of loss event, pro rata within one.
    /// Visits at most `maxRecords` of its records; one ClaimRepaid per record that pays. Anyone may call.
    /// @param account The account repaid (its collateral here; no token moves).
    /// @param maxRecords Most claim records to visit (at least 1).
    /// @return repaid What was credited (18 decimals).
    function claimRepayment(address account, uint256 maxRecords) external returns (uint256 repaid);

    /// @notice Brings `amount` (token decimals) to the claims of one pool, e.g. a recovery or a treasury payment.
    /// Pool 0 is the shared pool (every shared market's loss events), pool 1 + m isolated market m's own; a pool's
    /// inflows repay its own events only. Refused for any other pool (UnknownMarket(m) if market m is not listed,
    /// NotIsolatedMarket(m) if it is not isolated) and above what the pool's claims still lack.
    /// @param pool 0 for the shared pool, 1 + m for isolated market m's.
    /// @param amount Token units pulled from the caller.
    function repayClaims(uint256 pool, uint256 amount) external;

    /// @notice Takes a default-fund assessment from `member`'s collateral: at most `amount` token units and at
    /// most what the member could withdraw now (its free collateral, in whole units), paid to the insurance
    /// fund. Only the insurance fund (the default-layers contract) may call it, within a draw.
    /// @param member The clearing member assessed.
    /// @param amount The assessment asked, token decimals.
    /// @return collected What was taken, token decimals.
    function collectAssessment(address member, uint256 amount) external returns (uint256 collected);

    /// @notice Marks `account` as a clearing member of the calling fund (on joining) or clears the mark (on
    /// leaving). Only a connected fund (the shared one or an isolated market's) may call; an account is a member of
    /// one fund at a time. A marked account keeps its assessment reserve in its fills and withdrawals.
    /// @param account The member.
    /// @param member True to mark, false to clear the caller's own mark.
    function markMember(address account, bool member) external;

    /// @notice Pays an isolated market's fee pot first to the outstanding claims of that market's own pool (1 + m),
    /// then the rest, in whole token units, to that market's own fund, starting its income stream. Anyone may call.
    /// @param marketId The isolated market.
    function sweepIsolatedFees(uint256 marketId) external;

    // ---------------------------------------------------------------- batch

    /// @notice Runs each of `calls` (the ABI-encoded call of a function of this contract) as if the caller sent it
    /// alone, in order, in one transaction; an item that fails undoes only its own changes, emits
    /// {BatchItemFailed} and does not stop the others. For keepers sending many liquidations at once: a lost race
    /// (the account already liquidated, `NotLiquidatable`) fails one item, not the batch. Not payable.
    /// @dev An item acts as the caller (msg.sender kept), so it may do nothing the caller could not do directly;
    /// each function's own re-entrancy guard, role and member-reserve checks apply to its item. A nested batch
    /// runs its items the same way and reports its own failures with its own indices.
    /// @param calls The items, each a function selector and its ABI-encoded arguments; at least one.
    /// @return ok Per item, whether it succeeded.
    /// @return results Per item, its return data when it succeeded, its revert data when it failed.
    function batch(bytes[] calldata calls) external returns (bool[] memory ok, bytes[] memory results);

    // ---------------------------------------------------------------- administration

    /// @notice Connects the insurance fund, once. Admin role.
    /// @param fund The insurance fund's address.
    function setInsuranceFund(address fund) external;

    /// @notice Sets how long a deleverage case may stay open before anyone may socialize it. Risk-manager role.
    /// @param timeout Seconds, within [MIN_DELEVERAGE_TIMEOUT, MAX_DELEVERAGE_TIMEOUT].
    function setDeleverageTimeout(uint256 timeout) external;

    /// @notice Lists a market; risk-manager role. Checks every parameter's bounds and that the feed answers.
    /// @param params The market's parameters, its loss policy included (fixed for good).
    /// @return marketId The new market's id (ids count up from zero).
    function listMarket(MarketParams calldata params) external returns (uint256 marketId);

    /// @notice Lists an isolated market (risk-manager role): its fees go to its own pot and fund, its deficits are
    /// drawn from them only (never from the shared pot or fund), and an account with a position in it may hold no
    /// other market. Then the market's loss policy applies as usual.
    /// @param params The market's parameters.
    /// @param fund Its own insurance fund (an InsuranceFund or DefaultLayers drawn by this clearing house), used by
    /// no other market nor as the shared fund.
    /// @return marketId The new market's id.
    function listIsolatedMarket(MarketParams calldata params, address fund) external returns (uint256 marketId);

    /// @notice An isolated market's pool (fund 0 for a shared market).
    /// @param marketId The market.
    /// @return The market's own fund and fee pot (18 decimals).
    function isolatedPool(uint256 marketId) external view returns (IsolatedPool memory);

    /// @notice Replaces a market's parameters inside their bounds; the loss policy stays. Risk-manager role.
    /// @param marketId The market changed.
    /// @param params The new parameters (same loss policy).
    function updateMarketParams(uint256 marketId, MarketParams calldata params) external;

    /// @notice Sets the share of trading fees set aside for the insurance fund. Risk-manager role.
    /// @param share 18-decimal fraction, at most 1e18.
    function setInsuranceFeeShare(uint256 share) external;

    /// @notice Sends protocol fee revenue (token decimals) to `to`. Treasury role.
    /// @param to The receiver.
    /// @param amount Token units to send.
    function withdrawProtocolFees(address to, uint256 amount) external;

    /// @notice Pauses every fill that does not reduce both sides; deposits, withdrawals, reducing fills and the
    /// loss waterfall go on. Pauser role.
    function pause() external;

    /// @notice Lifts the pause. Pauser role.
    function unpause() external;

    // ---------------------------------------------------------------- views

    /// @notice The collateral token of this deployment.
    /// @return The token's address.
    function collateralToken() external view returns (address);

    /// @notice The oracle adapter all markets read through.
    /// @return The adapter's address.
    function oracle() external view returns (address);

    /// @notice The account's margin summary at current oracle prices, pending funding included.
    /// @param account The account read.
    /// @return Its collateral, equity, requirements and free collateral (18 decimals).
    function accountHealth(address account) external view returns (AccountHealth memory);

    /// @notice The account's position in a market valued at the oracle price, pending funding included.
    /// @param account The account read.
    /// @param marketId The market read.
    /// @return The position, its value and what it owes.
    function positionOf(address account, uint256 marketId) external view returns (PositionView memory);

    /// @notice Market ids in which the account holds a non-zero position.
    /// @param account The account read.
    /// @return Its open markets, ascending.
    function openMarketsOf(address account) external view returns (uint256[] memory);

    /// @notice Settled collateral of an account (18 decimals); pending funding not applied.
    /// @param account The account read.
    /// @return Its settled collateral.
    function collateralOf(address account) external view returns (int256);

    /// @notice A market's parameters.
    /// @param marketId The market read.
    /// @return Its parameters.
    function marketParams(uint256 marketId) external view returns (MarketParams memory);

    /// @notice A market's state with funding brought up to the current block.
    /// @param marketId The market read.
    /// @return Its state.
    function marketState(uint256 marketId) external view returns (MarketState memory);

    /// @notice The market's current funding rate per day, clamped (positive: longs pay shorts).
    /// @param marketId The market read.
    /// @return The daily rate, an 18-decimal fraction.
    function fundingRate(uint256 marketId) external view returns (int256);

    /// @notice Number of listed markets.
    /// @return The count (market ids are 0 … count − 1).
    function marketCount() external view returns (uint256);

    /// @notice EIP-712 digest of an order, the value a maker signs.
    /// @param order The order.
    /// @return The digest.
    function hashOrder(Order calldata order) external view returns (bytes32);

    /// @notice Size already filled of an order and whether it was cancelled.
    /// @param orderHash The order's EIP-712 digest.
    /// @return filled Base size filled so far.
    /// @return cancelled Whether its maker cancelled it.
    function orderStatus(bytes32 orderHash) external view returns (uint256 filled, bool cancelled);

    /// @notice Orders of `maker` with a nonce below this are invalid.
    /// @param maker The maker read.
    /// @return Its lowest valid nonce.
    function minValidNonce(address maker) external view returns (uint256);

    /// @notice Protocol fee revenue held (18 decimals).
    /// @return The amount.
    function protocolFees() external view returns (uint256);

    /// @notice Fees set aside for the insurance fund and not yet paid to it (18 decimals).
    /// @return The amount.
    function insuranceFees() external view returns (uint256);

    /// @notice Share of trading fees set aside for the insurance fund (18 decimals).
    /// @return The share.
    function insuranceFeeShare() external view returns (uint256);

    /// @notice The insurance fund (zero until connected).
    /// @return The fund's address.
    function insuranceFund() external view returns (address);

    /// @notice Seconds a deleverage case stays open before it may be socialized.
    /// @return The timeout.
    function deleverageTimeout() external view returns (uint256);

    /// @notice The account's deleverage case (open or the last one closed).
    /// @param account The account read.
    /// @return The case.
    function deleverageCaseOf(address account) external view returns (DeleverageCase memory);

    /// @notice Number of open deleverage cases across all markets; the fund's unstakes wait while non-zero.
    /// @return The count.
    function openDeleverageCases() external view returns (uint256);

    /// @notice ADL score and its inputs for the account's position in a market, at oracle prices.
    /// @param account The account read.
    /// @param marketId The market read.
    /// @return The score (0 when not eligible) and its inputs.
    function adlRank(address account, uint256 marketId) external view returns (AdlRank memory);

    /// @notice Profit haircut the account's position in `marketId` owes and has not settled yet (policy Haircut):
    /// included in its equity and pending charges.
    /// @param account The account read.
    /// @param marketId The market read.
    /// @return The amount (18 decimals).
    function haircutOwed(address account, uint256 marketId) external view returns (uint256);

    /// @notice Profit-haircut state of one side of a market: its indexes, its cost basis and what it still owes.
    /// @param marketId The market read.
    /// @param longSide The long side (true) or the short side.
    /// @return The side's state.
    function haircutSide(uint256 marketId, bool longSide) external view returns (HaircutSide memory);

    /// @notice Price at which closing the account's whole position in `marketId` leaves its equity at zero,
    /// its other positions valued at the oracle; zero without a position.
    /// @param account The account read.
    /// @param marketId The market read.
    /// @return The bankruptcy price (18 decimals; may be ≤ 0 for a long that cannot go bankrupt).
    function bankruptcyPrice(address account, uint256 marketId) external view returns (int256);

    /// @notice The account's claims: what it paid to loss events, what was repaid, what claimRepayment would pay now.
    /// @param account The account read.
    /// @return The summary (18 decimals).
    function claimsOf(address account) external view returns (ClaimSummary memory);

    /// @notice One claims pool's totals over all accounts (all zero for a pool with no events, and for a number that
    /// names no pool: the lens's `claimsPools()` lists the pools that exist).
    /// @param pool 0 for the shared pool, 1 + m for isolated market m's.
    /// @return issued Σ taken by the pool's loss events (18 decimals).
    /// @return inflow Σ inflows applied to them (18 decimals); issued − inflow is still owed.
    /// @return events Number of the pool's loss events.
    function claimsTotals(uint256 pool) external view returns (uint256 issued, uint256 inflow, uint256 events);
}
