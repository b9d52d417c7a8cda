// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {AccountHealth, IClearingHouse} from "../interfaces/IClearingHouse.sol";
import {IDefaultLayers} from "../interfaces/IDefaultLayers.sol";
import {IInsuranceFund} from "../interfaces/IInsuranceFund.sol";

/// @title DefaultLayers
/// @notice The clearing house's default resources after the fees it sets aside, as one insurance fund: first-loss
/// capital → stakers → members' default fund → capped member assessments. See {IDefaultLayers}.
/// @dev Connected to the clearing house with setInsuranceFund; the stakers' {InsuranceFund} is deployed with this
/// contract as its `clearingHouse` (the only account that may draw on it). Everything is in token units.
///
/// Members' fund. Contributions buy shares of `memberAssets`, an internal balance (a token donation is income,
/// not a share-price move, so there is nothing to inflate): shares = a × (S + 10^6) / (A + 1) on joining, value
/// = s × (A + 1) / (S + 10^6), both rounded down, against the member (OpenZeppelin's virtual-share formula).
/// A draw on the fund lowers A, which every share bears pro rata.
///
/// Assessments. A draw that the funded layers cannot cover asks each member, in register order, for its
/// pro-rata share ⌈N × c_i / C⌉ of what is left N (c_i its contribution, C their sum), capped by what it may
/// still be assessed this period (k × c_i − collected) and by what is left to collect; the clearing house takes it
/// from the member's free collateral. What a member cannot pay is not asked of the others: it falls to the
/// market's loss policy, with an AssessmentUncollected event. A draw of N ≤ min_i ⌊lim_i × C / c_i⌋ (lim_i the
/// smaller of the member's cap left and free collateral) is collected in full, since then every share fits its
/// limit and Σ⌈N c_i / C⌉ ≥ N; that bound is what `availableForDraw` counts for assessments.
///
/// Drawdown trigger. A window starts at the first draw after the previous one ended, with the funded layers'
/// total as reference; once the layers have paid `drawdownFraction` of it within the window, they pay nothing
/// more until the window ends and the market's loss policy takes the rest. A fraction of 1 turns it off.
contract DefaultLayers is IDefaultLayers, AccessControl {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Sets the parameters inside their bounds.
    bytes32 public constant LAYERS_MANAGER_ROLE = keccak256("LAYERS_MANAGER_ROLE");

    /// @notice Most members: every assessment and `availableForDraw` visit each one.
    uint256 public constant MAX_MEMBERS = 32;
    /// @notice Most a member may be assessed per period, as a multiple of its contribution (18 decimals).
    uint256 public constant MAX_ASSESSMENT_MULTIPLE = 3e18;
    /// @notice Bounds of the cooling-off (assessment and notice) period.
    uint256 public constant MIN_COOLING_OFF = 1 days;
    /// @notice Bounds of the cooling-off (assessment and notice) period.
    uint256 public constant MAX_COOLING_OFF = 90 days;
    /// @notice Most of the swept fees the members' fund may get (18 decimals).
    uint256 public constant MAX_MEMBER_FEE_SHARE = 0.5e18;
    /// @notice Bounds of the drawdown trigger's fraction (18 decimals; 1e18 = off).
    uint256 public constant MIN_DRAWDOWN_FRACTION = 0.05e18;
    /// @notice Bounds of the drawdown trigger's window.
    uint256 public constant MIN_DRAWDOWN_WINDOW = 1 hours;
    /// @notice Bounds of the drawdown trigger's window.
    uint256 public constant MAX_DRAWDOWN_WINDOW = 7 days;
    /// @notice Time after a notice ends in which the member may leave; after it the notice lapses, so that a
    /// matured notice is no option to keep armed against a loss seen coming.
    uint256 public constant LEAVE_WINDOW = 1 days;

    uint256 private constant WAD = 1e18;
    uint256 private constant VIRTUAL_SHARES = 1e6;

    IERC20 private immutable _token;
    /// @dev 10^(18 − token decimals): the clearing house's 18-decimal amounts → token units.
    uint256 private immutable _scale;
    /// @notice The clearing house this contract pays.
    IClearingHouse public immutable clearingHouse;
    /// @notice The stakers' ERC-4626 fund, second layer.
    IInsuranceFund public stakers;

    /// @notice First-loss capital held now.
    uint256 public firstLoss;
    /// @notice Paid out by the first-loss capital, ever.
    uint256 public firstLossPaid;
    /// @notice Added to the first-loss capital by the treasury (fundFirstLoss), ever.
    uint256 public firstLossFunded;
    /// @notice Added to the first-loss capital from swept fees, ever.
    uint256 public firstLossRefilled;

    /// @notice The members' fund.
    uint256 public memberAssets;
    /// @notice Shares of the members' fund.
    uint256 public memberShares;
    /// @notice Σ contributions of the members.
    uint256 public totalContribution;
    /// @notice Collected by assessments, ever.
    uint256 public assessedTotal;
    /// @notice Time of the last draw that any layer paid.
    uint256 public lastDefaultAt;

    /// @notice The current drawdown window: its start, the funded layers' total then, and what the layers paid since.
    DrawdownWindow public drawdown;

    Params private _params;
    address[] private _members;
    mapping(address account => Member) private _memberOf;

    /// @param clearingHouse_ The clearing house allowed to draw; its collateral token is this contract's.
    /// @param admin Receives the admin and manager roles.
    /// @param params Initial parameters, inside their bounds.
    constructor(IClearingHouse clearingHouse_, address admin, Params memory params) {
        if (address(clearingHouse_) == address(0) || admin == address(0)) revert InvalidAddress(address(0));
        clearingHouse = clearingHouse_;
        address token = clearingHouse_.collateralToken();
        _token = IERC20(token);
        _scale = 10 ** (18 - IERC20Metadata(token).decimals());
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(LAYERS_MANAGER_ROLE, admin);
        _setParams(params);
    }

    // ================================================================ clearing house

    /// @inheritdoc IDefaultLayers
    function draw(uint256 amount) external returns (uint256 paid) {
        if (msg.sender != address(clearingHouse)) revert OnlyClearingHouse(msg.sender);
        uint256 budget = _rollDrawdownWindow();
        if (budget < amount) {
            emit DrawdownTriggered(drawdown.base, drawdown.drawn, drawdown.start, amount - budget);
            amount = budget;
        }
        if (amount == 0) return 0;

        uint256 part = Math.min(amount, firstLoss);
        if (part != 0) {
            firstLoss -= part;
            firstLossPaid += part;
            paid = _paid(Layer.FirstLoss, part);
        }
        IInsuranceFund fund = stakers;
        if (paid < amount && address(fund) != address(0)) paid += _paid(Layer.Stakers, fund.draw(amount - paid));
        part = Math.min(amount - paid, memberAssets);
        if (part != 0) {
            memberAssets -= part;
            paid += _paid(Layer.MembersFund, part);
        }
        if (paid < amount) paid += _paid(Layer.Assessments, _assess(amount - paid));
        if (paid == 0) return 0;
        lastDefaultAt = block.timestamp;
        drawdown.drawn += paid;
        _token.safeTransfer(address(clearingHouse), paid);
    }

    /// @inheritdoc IDefaultLayers
    function availableForDraw() external view returns (uint256) {
        uint256 funded = firstLoss + memberAssets;
        IInsuranceFund fund = stakers;
        if (address(fund) != address(0)) funded += fund.availableForDraw();
        return Math.min(funded + _assessable(), _drawdownBudget());
    }

    /// @inheritdoc IDefaultLayers
    function syncIncome() external {
        IInsuranceFund fund = _stakers();
        uint256 income = _token.balanceOf(address(this)) - firstLoss - memberAssets;
        if (income == 0) return;
        uint256 toMembers = _members.length == 0 ? 0 : Math.mulDiv(income, _params.memberFeeShare, WAD);
        uint256 toFirstLoss =
            firstLoss >= _params.firstLossTarget
                ? 0
                : Math.min(Math.mulDiv(income, _params.refillShare, WAD), _params.firstLossTarget - firstLoss);
        toFirstLoss = Math.min(toFirstLoss, income - toMembers);
        uint256 toStakers = income - toMembers - toFirstLoss;
        memberAssets += toMembers;
        firstLoss += toFirstLoss;
        firstLossRefilled += toFirstLoss;
        if (toStakers != 0) _token.safeTransfer(address(fund), toStakers);
        fund.syncIncome();
        emit IncomeSplit(toFirstLoss, toMembers, toStakers);
    }

    /// @inheritdoc IDefaultLayers
    function openDeleverageCases() external view returns (uint256) {
        return clearingHouse.openDeleverageCases();
    }

    // ================================================================ first-loss capital

    /// @inheritdoc IDefaultLayers
    function fundFirstLoss(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        _pullExact(amount);
        firstLoss += amount;
        firstLossFunded += amount;
        emit FirstLossFunded(msg.sender, amount);
    }

    // ================================================================ members

    /// @inheritdoc IDefaultLayers
    function join(uint256 amount) external returns (uint256 shares) {
        if (amount == 0) revert ZeroAmount();
        Member storage member = _memberOf[msg.sender];
        if (member.contribution == 0) {
            uint256 required = requiredContribution(msg.sender);
            if (amount < required) revert ContributionTooSmall(msg.sender, amount, required);
            if (_members.length >= MAX_MEMBERS) revert TooManyMembers(MAX_MEMBERS);
            _members.push(msg.sender);
            // The clearing house keeps the member's assessment reserve from now on (and refuses a fund it does not
            // draw, or an account that is another fund's member).
            clearingHouse.markMember(msg.sender, true);
        }
        _pullExact(amount);
        shares = Math.mulDiv(amount, memberShares + VIRTUAL_SHARES, memberAssets + 1);
        member.shares += shares;
        member.contribution += amount.toUint128();
        memberShares += shares;
        memberAssets += amount;
        totalContribution += amount;
        emit MemberJoined(msg.sender, amount, shares, member.contribution);
    }

    /// @inheritdoc IDefaultLayers
    function requestLeave() external returns (uint256 leaveAt) {
        Member storage member = _requireMember(msg.sender);
        if (member.leaveAt != 0 && block.timestamp < uint256(member.leaveAt) + LEAVE_WINDOW) {
            revert NoticeAlreadyGiven(msg.sender, member.leaveAt);
        }
        leaveAt = block.timestamp + _params.coolingOffPeriod;
        member.leaveAt = uint64(leaveAt);
        emit LeaveRequested(msg.sender, leaveAt);
    }

    /// @inheritdoc IDefaultLayers
    function leaveFund() external returns (uint256 amount) {
        Member memory member = _requireMember(msg.sender);
        if (member.leaveAt == 0) revert NoNotice(msg.sender);
        if (block.timestamp < member.leaveAt) revert NoticeNotElapsed(msg.sender, member.leaveAt);
        if (block.timestamp >= uint256(member.leaveAt) + LEAVE_WINDOW) {
            revert NoticeLapsed(msg.sender, uint256(member.leaveAt) + LEAVE_WINDOW);
        }
        uint256 until = lastDefaultAt + _params.coolingOffPeriod;
        if (lastDefaultAt != 0 && block.timestamp < until) revert CoolingOff(lastDefaultAt, until);
        if (clearingHouse.openDeleverageCases() != 0) revert BadDebtPending();
        amount = _valueOf(member.shares);
        memberShares -= member.shares;
        memberAssets -= amount;
        totalContribution -= member.contribution;
        _removeMember(msg.sender);
        clearingHouse.markMember(msg.sender, false);
        if (amount != 0) _token.safeTransfer(msg.sender, amount);
        emit MemberLeft(msg.sender, amount);
    }

    // ================================================================ administration

    /// @notice Connects the stakers' fund, once. Admin role.
    /// @param fund An {InsuranceFund} deployed with this contract as its clearing house.
    function connectStakers(IInsuranceFund fund) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(fund) == address(0)) revert InvalidAddress(address(0));
        if (address(stakers) != address(0)) revert StakersAlreadyConnected(address(stakers));
        stakers = fund;
    }

    /// @notice Sets every parameter inside its bounds. Manager role.
    /// @param params The new parameters.
    function setParams(Params calldata params) external onlyRole(LAYERS_MANAGER_ROLE) {
        _setParams(params);
    }

    // ================================================================ views

    /// @inheritdoc IDefaultLayers
    function requiredContribution(address account) public view returns (uint256) {
        uint256 initialMargin = clearingHouse.accountHealth(account).initialMargin;
        uint256 byMargin = Math.mulDiv(initialMargin, _params.contributionRatio, WAD * _scale, Math.Rounding.Ceil);
        return Math.max(_params.minContribution, byMargin);
    }

    /// @inheritdoc IDefaultLayers
    function memberValue(address member) external view returns (uint256) {
        return _valueOf(_memberOf[member].shares);
    }

    /// @inheritdoc IDefaultLayers
    function assessmentCapLeft(address member) public view returns (uint256) {
        Member storage m = _memberOf[member];
        uint256 cap = Math.mulDiv(m.contribution, _params.assessmentMultiple, WAD);
        uint256 assessed = _periodOver(m) ? 0 : m.assessed;
        return cap > assessed ? cap - assessed : 0;
    }

    /// @inheritdoc IDefaultLayers
    function members() external view returns (address[] memory) {
        return _members;
    }

    /// @notice The parameters.
    /// @return The current parameters.
    function parameters() external view returns (Params memory) {
        return _params;
    }

    /// @notice A member's record.
    /// @param account The member.
    /// @return The record (all zero for a non-member).
    function memberOf(address account) external view returns (Member memory) {
        return _memberOf[account];
    }

    // ================================================================ internal

    /// @dev Asks every member for its pro-rata share of `amount`, within its cap. Returns what was collected.
    function _assess(uint256 amount) private returns (uint256 collected) {
        uint256 total = totalContribution;
        uint256 count = _members.length;
        for (uint256 i = 0; i < count && collected < amount; ++i) {
            address account = _members[i];
            Member storage member = _memberOf[account];
            uint256 ask = Math.mulDiv(amount, member.contribution, total, Math.Rounding.Ceil);
            ask = Math.min(Math.min(ask, assessmentCapLeft(account)), amount - collected);
            if (ask == 0) continue;
            if (_periodOver(member)) {
                member.periodStart = uint64(block.timestamp);
                member.assessed = 0;
            }
            // A member whose health cannot be read (a stale oracle of a market it holds) pays nothing now rather
            // than stopping the liquidation: its share is uncollected and falls to the next layer.
            uint256 got;
            try clearingHouse.collectAssessment(account, ask) returns (uint256 collected_) {
                got = Math.min(collected_, ask);
            } catch {
                got = 0;
            }
            member.assessed += got.toUint128();
            collected += got;
            emit MemberAssessed(account, ask, got);
            if (got < ask) emit AssessmentUncollected(account, ask - got);
        }
        assessedTotal += collected;
    }

    /// @dev The largest draw on the assessments that every member can pay its whole share of (see the header).
    function _assessable() private view returns (uint256 most) {
        uint256 count = _members.length;
        if (count == 0) return 0;
        uint256 total = totalContribution;
        most = type(uint256).max;
        for (uint256 i = 0; i < count; ++i) {
            address account = _members[i];
            uint256 free;
            try clearingHouse.accountHealth(account) returns (AccountHealth memory health) {
                free = health.freeCollateral / _scale;
            } catch {
                free = 0;
            }
            uint256 limit = Math.min(assessmentCapLeft(account), free);
            most = Math.min(most, Math.mulDiv(limit, total, _memberOf[account].contribution));
        }
    }

    /// @dev Starts a new drawdown window when the last one is over; returns what the layers may still pay in it.
    function _rollDrawdownWindow() private returns (uint256) {
        if (_params.drawdownFraction >= WAD) return type(uint256).max;
        if (block.timestamp >= drawdown.start + _params.drawdownWindow) {
            drawdown = DrawdownWindow(block.timestamp, _fundedTotal(), 0);
        }
        return _drawdownBudget();
    }

    /// @dev What the layers may still pay before the trigger, as of the current window (or a new one, if due).
    function _drawdownBudget() private view returns (uint256) {
        if (_params.drawdownFraction >= WAD) return type(uint256).max;
        bool over = block.timestamp >= drawdown.start + _params.drawdownWindow;
        uint256 base = over ? _fundedTotal() : drawdown.base;
        uint256 drawn = over ? 0 : drawdown.drawn;
        uint256 limit = Math.mulDiv(base, _params.drawdownFraction, WAD);
        return limit > drawn ? limit - drawn : 0;
    }

    /// @dev The funded layers: first-loss capital, the stakers' assets and the members' fund.
    function _fundedTotal() private view returns (uint256) {
        uint256 total = firstLoss + memberAssets;
        IInsuranceFund fund = stakers;
        if (address(fund) != address(0)) total += IERC4626(address(fund)).totalAssets();
        return total;
    }

    function _paid(Layer layer, uint256 amount) private returns (uint256) {
        if (amount != 0) emit LayerDrawn(layer, amount);
        return amount;
    }

    function _stakers() private view returns (IInsuranceFund fund) {
        fund = stakers;
        if (address(fund) == address(0)) revert StakersNotConnected();
    }

    function _valueOf(uint256 shares) private view returns (uint256) {
        return Math.mulDiv(shares, memberAssets + 1, memberShares + VIRTUAL_SHARES);
    }

    function _periodOver(Member storage member) private view returns (bool) {
        return block.timestamp >= uint256(member.periodStart) + _params.coolingOffPeriod;
    }

    function _requireMember(address account) private view returns (Member storage member) {
        member = _memberOf[account];
        if (member.contribution == 0) revert NotMember(account);
    }

    /// @dev Swap-and-pop from the register; the order of the others only changes who is asked first.
    function _removeMember(address account) private {
        uint256 count = _members.length;
        for (uint256 i = 0; i < count; ++i) {
            if (_members[i] != account) continue;
            _members[i] = _members[count - 1];
            _members.pop();
            break;
        }
        delete _memberOf[account];
    }

    /// @dev Pulls exactly `amount` from the caller; a token that delivers anything else is refused.
    function _pullExact(uint256 amount) private {
        uint256 before = _token.balanceOf(address(this));
        _token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = _token.balanceOf(address(this)) - before;
        if (received != amount) revert TransferAmountMismatch(amount, received);
    }

    function _setParams(Params memory p) private {
        _check("firstLossTarget", p.firstLossTarget, 0, type(uint128).max);
        _check("refillShare", p.refillShare, 0, WAD);
        _check("memberFeeShare", p.memberFeeShare, 0, MAX_MEMBER_FEE_SHARE);
        _check("minContribution", p.minContribution, 1, type(uint128).max);
        _check("contributionRatio", p.contributionRatio, 0, WAD);
        _check("assessmentMultiple", p.assessmentMultiple, 0, MAX_ASSESSMENT_MULTIPLE);
        _check("coolingOffPeriod", p.coolingOffPeriod, MIN_COOLING_OFF, MAX_COOLING_OFF);
        _check("drawdownFraction", p.drawdownFraction, MIN_DRAWDOWN_FRACTION, WAD);
        _check("drawdownWindow", p.drawdownWindow, MIN_DRAWDOWN_WINDOW, MAX_DRAWDOWN_WINDOW);
        _params = p;
        emit LayerParamsUpdated(
            p.firstLossTarget,
            p.refillShare,
            p.memberFeeShare,
            p.minContribution,
            p.contributionRatio,
            p.assessmentMultiple,
            p.coolingOffPeriod,
            p.drawdownFraction,
            p.drawdownWindow
        );
    }

    function _check(string memory name, uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max) revert LayerParamOutOfBounds(name, value, min, max);
    }
}
