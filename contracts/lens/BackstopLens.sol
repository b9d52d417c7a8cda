// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";

import {
    IClearingHouse,
    AccountHealth,
    AdlRank,
    ClaimSummary,
    MarketParams,
    PositionView
} from "../interfaces/IClearingHouse.sol";
import {IInsuranceFund} from "../interfaces/IInsuranceFund.sol";
import {IOracleAdapter} from "../interfaces/IOracleAdapter.sol";

/// @title BackstopLens
/// @notice Batched reads for keepers and UIs: many accounts' health, positions, ADL ranks and bankruptcy
/// prices, and the insurance fund, each in one call. Holds nothing.
contract BackstopLens {
    /// @notice One account's margin at oracle prices.
    struct AccountRow {
        address account;
        int256 collateral;
        int256 equity;
        uint256 initialMargin;
        uint256 maintenanceMargin;
        bool liquidatable;
        bool bankrupt;
    }

    /// @notice One open position with its ADL rank and the account's bankruptcy price in that market.
    struct PositionRow {
        uint256 marketId;
        PositionView position;
        AdlRank rank;
        int256 bankruptcyPrice;
    }

    /// @notice The insurance fund and the bad debt waiting on it.
    struct FundState {
        address fund;
        uint256 totalAssets;
        uint256 totalSupply;
        uint256 availableForDraw;
        /// Fees set aside in the clearing house for the fund (18 decimals).
        uint256 pendingFees;
        uint256 openDeleverageCases;
    }

    /// @notice The clearing house read.
    IClearingHouse public immutable clearingHouse;

    constructor(IClearingHouse clearingHouse_) {
        clearingHouse = clearingHouse_;
    }

    /// @notice Health of each account: equity, requirements, liquidatable (equity < maintenance), bankrupt (< 0).
    function healthOf(address[] calldata accounts) external view returns (AccountRow[] memory rows) {
        rows = new AccountRow[](accounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            AccountHealth memory h = clearingHouse.accountHealth(accounts[i]);
            rows[i] = AccountRow({
                account: accounts[i],
                collateral: h.collateral,
                equity: h.equity,
                initialMargin: h.initialMargin,
                maintenanceMargin: h.maintenanceMargin,
                liquidatable: h.equity < int256(h.maintenanceMargin),
                bankrupt: h.equity < 0
            });
        }
    }

    /// @notice Every open position of `account`, with its ADL rank and bankruptcy price.
    function positionsOf(address account) external view returns (PositionRow[] memory rows) {
        uint256[] memory markets = clearingHouse.openMarketsOf(account);
        rows = new PositionRow[](markets.length);
        for (uint256 i = 0; i < markets.length; ++i) {
            rows[i] = PositionRow({
                marketId: markets[i],
                position: clearingHouse.positionOf(account, markets[i]),
                rank: clearingHouse.adlRank(account, markets[i]),
                bankruptcyPrice: clearingHouse.bankruptcyPrice(account, markets[i])
            });
        }
    }

    /// @notice ADL rank of each account's position in `marketId`.
    function adlRanks(uint256 marketId, address[] calldata accounts) external view returns (AdlRank[] memory ranks) {
        ranks = new AdlRank[](accounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            ranks[i] = clearingHouse.adlRank(accounts[i], marketId);
        }
    }

    /// @notice Profit haircut each account's position in `marketId` owes and has not settled (policy haircut; zero
    /// elsewhere), as its equity already counts it.
    /// @param marketId The market read.
    /// @param accounts The accounts read.
    /// @return owed One amount per account (18 decimals).
    function haircutsOwed(uint256 marketId, address[] calldata accounts) external view returns (uint256[] memory owed) {
        owed = new uint256[](accounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            owed[i] = clearingHouse.haircutOwed(accounts[i], marketId);
        }
    }

    /// @notice Each account's repayable claims: what it paid to loss events, what was repaid, what
    /// claimRepayment would pay now, and its number of records.
    /// @param accounts The accounts read.
    /// @return rows One summary per account (18 decimals).
    function claimsOf(address[] calldata accounts) external view returns (ClaimSummary[] memory rows) {
        rows = new ClaimSummary[](accounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            rows[i] = clearingHouse.claimsOf(accounts[i]);
        }
    }

    /// @notice Bankruptcy price of each account's position in `marketId` (zero without a position).
    function bankruptcyPrices(
        uint256 marketId,
        address[] calldata accounts
    ) external view returns (int256[] memory prices) {
        prices = new int256[](accounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            prices[i] = clearingHouse.bankruptcyPrice(accounts[i], marketId);
        }
    }

    /// @notice The oracle price of each market as the clearing house reads it (18 decimals), in one call. A market
    /// whose feed the adapter refuses (stale, incomplete, non-positive) gets price 0 and `ok` false instead of
    /// reverting the whole batch, so one bad feed does not blind a keeper to the other markets.
    function oraclePrices(
        uint256[] calldata marketIds
    ) external view returns (uint256[] memory prices, bool[] memory ok) {
        IOracleAdapter oracle = IOracleAdapter(clearingHouse.oracle());
        prices = new uint256[](marketIds.length);
        ok = new bool[](marketIds.length);
        for (uint256 i = 0; i < marketIds.length; ++i) {
            MarketParams memory params = clearingHouse.marketParams(marketIds[i]);
            try oracle.getPrice(params.oracleFeed, params.oracleHeartbeat) returns (uint256 price) {
                (prices[i], ok[i]) = (price, true);
            } catch {
                ok[i] = false; // price stays 0
            }
        }
    }

    /// @notice The insurance fund's balance, shares, what it could pay now, and the bad debt waiting.
    function fundState() external view returns (FundState memory state) {
        state.fund = clearingHouse.insuranceFund();
        state.pendingFees = clearingHouse.insuranceFees();
        state.openDeleverageCases = clearingHouse.openDeleverageCases();
        if (state.fund == address(0)) return state;
        state.totalAssets = IERC4626(state.fund).totalAssets();
        state.totalSupply = IERC4626(state.fund).totalSupply();
        state.availableForDraw = IInsuranceFund(state.fund).availableForDraw();
    }
}
