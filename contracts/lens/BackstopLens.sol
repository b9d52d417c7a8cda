// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {DefaultLayers} from "../insurance/DefaultLayers.sol";

import {
    IClearingHouse,
    AccountHealth,
    AdlRank,
    ClaimSummary,
    IsolatedPool,
    MarketParams,
    PositionView
} from "../interfaces/IClearingHouse.sol";
import {IDefaultLayers} from "../interfaces/IDefaultLayers.sol";
import {IInsuranceFund} from "../interfaces/IInsuranceFund.sol";
import {IOracleAdapter} from "../interfaces/IOracleAdapter.sol";

/// @title BackstopLens
/// @notice Batched reads for keepers and UIs: many accounts' health, positions, ADL ranks and bankruptcy
/// prices, the insurance fund and the default layers, each in one call. Holds nothing.
/// @dev The clearing house's fund address is either the stakers' ERC-4626 {InsuranceFund} or a {DefaultLayers}
/// whose second layer that fund is. The lens tells them apart by calling `stakers()` (only the layers have it).
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
        /// The clearing house's fund address: the stakers' fund, or the default layers.
        address fund;
        /// The stakers' ERC-4626 assets (token decimals) and shares.
        uint256 totalAssets;
        uint256 totalSupply;
        /// What a draw on `fund` could pay now (with layers: every layer, within the drawdown trigger).
        uint256 availableForDraw;
        /// Fees set aside in the clearing house for the fund (18 decimals).
        uint256 pendingFees;
        uint256 openDeleverageCases;
        /// The stakers' ERC-4626 fund (`fund` itself without layers; zero while none is connected).
        address stakers;
        /// The default layers, or zero when the clearing house draws on the stakers' fund directly.
        address layers;
    }

    /// @notice One default layer: what it holds and what it would pay towards a draw made now.
    struct LayerRow {
        IDefaultLayers.Layer layer;
        /// First loss, members' fund: the balance. Stakers: the fund's assets. Assessments: Σ over members of
        /// what each may still be assessed this period (k × contribution less what it paid in the period).
        uint256 size;
        /// What the layer would pay towards an unlimited draw now, after the layers above it, within the
        /// drawdown trigger; for assessments, what every member can pay in full (free collateral and cap).
        /// Σ over the rows = the layers' `availableForDraw`.
        uint256 wouldPay;
    }

    /// @notice The drawdown trigger as a draw made now would find it (a window that has ended counts as new).
    struct DrawdownState {
        /// Share of the base the layers may pay in a window (18 decimals); 1e18: off.
        uint256 fraction;
        uint256 window;
        /// The window a draw now falls in: its start (now, when a new one would start), base and what was paid.
        uint256 windowStart;
        uint256 base;
        uint256 drawn;
        /// What the layers may still pay in that window (type(uint256).max when the trigger is off).
        uint256 budget;
        /// True when the trigger refuses any further draw in the window.
        bool tripped;
    }

    /// @notice The default layers in the order they pay, token decimals. All zero without layers.
    struct LayersState {
        address layers;
        address stakers;
        /// One row per {IDefaultLayers.Layer}, in that order.
        LayerRow[4] rows;
        DrawdownState drawdown;
        uint256 availableForDraw;
        uint256 members;
        uint256 totalContribution;
        /// Time of the last draw any layer paid (members cannot leave within a cooling-off period of it).
        uint256 lastDefaultAt;
        uint256 firstLossPaid;
        uint256 assessedTotal;
    }

    /// @notice An isolated market's own resources (token decimals, except `pendingFees`).
    struct IsolatedFundState {
        uint256 marketId;
        /// The market's own fund (an InsuranceFund or DefaultLayers).
        address fund;
        /// The market's fee pot in the clearing house (18 decimals).
        uint256 pendingFees;
        /// The fund's token balance: its size. For a DefaultLayers fund, its own balance (first loss and members'
        /// fund) plus its stakers' vault's, which holds its tokens itself.
        uint256 size;
        /// What a draw for this market could take now (token decimals): the pot's whole units plus the fund's
        /// availableForDraw.
        uint256 wouldPay;
    }

    /// @notice One claims pool's totals (18 decimals): pool 0 is the shared pool, 1 + m isolated market m's.
    struct ClaimsPoolState {
        uint256 pool;
        /// Σ taken by the pool's loss events.
        uint256 issued;
        /// Σ inflows applied to them; issued − inflow is still owed.
        uint256 inflow;
        /// Number of the pool's loss events.
        uint256 events;
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

    /// @notice Every claims pool: the shared one, then each isolated market's, in market order.
    /// @return rows One row per pool.
    function claimsPools() external view returns (ClaimsPoolState[] memory rows) {
        uint256 count = clearingHouse.marketCount();
        ClaimsPoolState[] memory all = new ClaimsPoolState[](count + 1);
        uint256 n;
        for (uint256 pool = 0; pool <= count; ++pool) {
            if (pool != 0 && clearingHouse.isolatedPool(pool - 1).fund == address(0)) continue;
            (uint256 issued, uint256 inflow, uint256 events) = clearingHouse.claimsTotals(pool);
            all[n++] = ClaimsPoolState(pool, issued, inflow, events);
        }
        rows = new ClaimsPoolState[](n);
        for (uint256 i = 0; i < n; ++i) rows[i] = all[i];
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

    /// @notice The insurance fund's balance, shares, what it could pay now, and the bad debt waiting; with default
    /// layers, the stakers' fund's balance and shares and the layers' `availableForDraw`.
    /// @return state The fund's figures.
    function fundState() external view returns (FundState memory state) {
        state.fund = clearingHouse.insuranceFund();
        state.pendingFees = clearingHouse.insuranceFees();
        state.openDeleverageCases = clearingHouse.openDeleverageCases();
        if (state.fund == address(0)) return state;
        (state.layers, state.stakers) = _layersOf(state.fund);
        state.availableForDraw = IInsuranceFund(state.fund).availableForDraw();
        if (state.stakers == address(0)) return state;
        state.totalAssets = IERC4626(state.stakers).totalAssets();
        state.totalSupply = IERC4626(state.stakers).totalSupply();
    }

    /// @notice Every isolated market's own fund: its size and what it (with the market's pot) would pay now.
    /// @return rows One row per isolated market, in market order.
    function isolatedFunds() external view returns (IsolatedFundState[] memory rows) {
        uint256 count = clearingHouse.marketCount();
        IsolatedFundState[] memory all = new IsolatedFundState[](count);
        uint256 n;
        IERC20Metadata token = IERC20Metadata(clearingHouse.collateralToken());
        uint256 scale = 10 ** (18 - token.decimals());
        for (uint256 m = 0; m < count; ++m) {
            IsolatedPool memory pool = clearingHouse.isolatedPool(m);
            if (pool.fund == address(0)) continue;
            uint256 size = token.balanceOf(pool.fund);
            (address layers, address stakers) = _layersOf(pool.fund);
            if (layers != address(0) && stakers != address(0)) size += token.balanceOf(stakers);
            uint256 fromFund = IInsuranceFund(pool.fund).availableForDraw();
            all[n++] = IsolatedFundState(m, pool.fund, pool.fees, size, pool.fees / scale + fromFund);
        }
        rows = new IsolatedFundState[](n);
        for (uint256 i = 0; i < n; ++i) rows[i] = all[i];
    }

    /// @notice Every default layer's size and what it would pay towards a draw made now, the drawdown trigger's
    /// state and the members' totals; all zero when the clearing house has no default layers.
    /// @return state The layers' figures, token decimals.
    function layersState() external view returns (LayersState memory state) {
        address fund = clearingHouse.insuranceFund();
        if (fund == address(0)) return state;
        (address layersAddress, address stakers) = _layersOf(fund);
        if (layersAddress == address(0)) return state;
        (state.layers, state.stakers) = (layersAddress, stakers);
        DefaultLayers layers = DefaultLayers(state.layers);
        address[] memory members = layers.members();
        state.members = members.length;
        state.totalContribution = layers.totalContribution();
        state.lastDefaultAt = layers.lastDefaultAt();
        state.firstLossPaid = layers.firstLossPaid();
        state.assessedTotal = layers.assessedTotal();
        state.availableForDraw = layers.availableForDraw();

        // sizes and what each layer can pay on its own, in layer order
        uint256[4] memory sizes = [layers.firstLoss(), 0, layers.memberAssets(), 0];
        uint256[4] memory canPay = [sizes[0], 0, sizes[2], 0];
        if (state.stakers != address(0)) {
            sizes[1] = IERC4626(state.stakers).totalAssets();
            canPay[1] = IInsuranceFund(state.stakers).availableForDraw();
        }
        (sizes[3], canPay[3]) = _assessments(layers, members, state.totalContribution);
        state.drawdown = _drawdown(layers, sizes[0] + sizes[1] + sizes[2]);

        // A draw pays layer by layer until the trigger's budget is spent: each row gets the smaller of what the
        // layer can pay and what the budget leaves after the rows above it.
        uint256 left = state.drawdown.budget;
        for (uint256 i = 0; i < 4; ++i) {
            uint256 pays = Math.min(canPay[i], left);
            left -= pays;
            state.rows[i] = LayerRow({layer: IDefaultLayers.Layer(i), size: sizes[i], wouldPay: pays});
        }
    }

    /// @dev (layers, stakers) behind the clearing house's fund address: (fund, fund.stakers()) when `fund` answers
    /// `stakers()` with one word, else (0, fund). A low-level call, since an ERC-4626 fund has no such function.
    function _layersOf(address fund) private view returns (address layers, address stakers) {
        (bool ok, bytes memory data) = fund.staticcall(abi.encodeCall(IDefaultLayers.stakers, ()));
        if (!ok || data.length != 32) return (address(0), fund);
        return (fund, abi.decode(data, (address)));
    }

    /// @dev The trigger as DefaultLayers' draw would roll it now: a window that has ended is replaced by one
    /// starting now with the funded layers' total as base and nothing drawn.
    function _drawdown(DefaultLayers layers, uint256 fundedTotal) private view returns (DrawdownState memory d) {
        IDefaultLayers.Params memory params = layers.parameters();
        d.fraction = params.drawdownFraction;
        d.window = params.drawdownWindow;
        if (params.drawdownFraction >= 1e18) {
            d.budget = type(uint256).max;
            return d;
        }
        (uint256 start, uint256 base, uint256 drawn) = layers.drawdown();
        if (block.timestamp >= start + params.drawdownWindow) (start, base, drawn) = (block.timestamp, fundedTotal, 0);
        (d.windowStart, d.base, d.drawn) = (start, base, drawn);
        uint256 limit = Math.mulDiv(base, params.drawdownFraction, 1e18);
        d.budget = limit > drawn ? limit - drawn : 0;
        d.tripped = d.budget == 0;
    }

    /// @dev Σ of what the members may still be assessed this period, and the largest draw on the assessments that
    /// every member pays its whole pro-rata share of: min_i ⌊min(cap left_i, free collateral_i) × C / c_i⌋, as
    /// DefaultLayers counts it in availableForDraw (free collateral in whole token units; an unreadable one is 0).
    function _assessments(
        DefaultLayers layers,
        address[] memory members,
        uint256 totalContribution
    ) private view returns (uint256 capacity, uint256 collectable) {
        if (members.length == 0) return (0, 0);
        uint256 scale = 10 ** (18 - IERC20Metadata(clearingHouse.collateralToken()).decimals());
        collectable = type(uint256).max;
        for (uint256 i = 0; i < members.length; ++i) {
            uint256 capLeft = layers.assessmentCapLeft(members[i]);
            capacity += capLeft;
            uint256 free;
            try clearingHouse.accountHealth(members[i]) returns (AccountHealth memory health) {
                free = health.freeCollateral / scale;
            } catch {
                free = 0;
            }
            uint256 limit = Math.min(capLeft, free);
            uint256 contribution = layers.memberOf(members[i]).contribution;
            collectable = Math.min(collectable, Math.mulDiv(limit, totalContribution, contribution));
        }
    }
}
