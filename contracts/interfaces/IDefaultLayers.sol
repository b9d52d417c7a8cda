// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IInsuranceFund} from "./IInsuranceFund.sol";

/// @title IDefaultLayers
/// @notice The default resources between a bankrupt account's deficit (after its margin and the fees set aside in
/// the clearing house) and the market's loss policy, drawn in this order: the protocol's first-loss capital, the
/// stakers' insurance fund (ERC-4626), the members' default fund, then assessments on the members, capped at k×
/// their contribution per period. The clearing house sees one insurance fund: it calls `draw` and
/// `availableForDraw` and sweeps its fee pot here. Amounts are token decimals.
interface IDefaultLayers {
    /// @notice The layers, in the order they pay.
    enum Layer {
        FirstLoss,
        Stakers,
        MembersFund,
        Assessments
    }

    /// @notice A member's record.
    /// @param shares Claim on the members' fund.
    /// @param contribution What the member paid in (its assessment cap is k× this).
    /// @param assessed Collected from it in the period starting at `periodStart`.
    /// @param periodStart Start of its current assessment period.
    /// @param leaveAt When its notice ends (0: no notice given).
    struct Member {
        uint256 shares;
        uint128 contribution;
        uint128 assessed;
        uint64 periodStart;
        uint64 leaveAt;
    }

    /// @notice The parameters, in the order of {LayerParamsUpdated}; bounds in {DefaultLayers}.
    /// @param firstLossTarget Level up to which swept fees refill the first-loss capital.
    /// @param refillShare Share of swept fees that refills the first-loss capital up to its target (18 decimals).
    /// @param memberFeeShare Share of swept fees the members' fund earns (18 decimals).
    /// @param minContribution Smallest contribution of a new member.
    /// @param contributionRatio A new member contributes at least this share of its initial margin (18 decimals).
    /// @param assessmentMultiple k: most a member is assessed per period, in contributions (18 decimals).
    /// @param coolingOffPeriod The assessment period, the notice to leave, and how long after a default nobody leaves.
    /// @param drawdownFraction Share of the funded layers drawn within a window that fires the trigger (1e18: off).
    /// @param drawdownWindow The drawdown trigger's window, seconds.
    struct Params {
        uint256 firstLossTarget;
        uint256 refillShare;
        uint256 memberFeeShare;
        uint256 minContribution;
        uint256 contributionRatio;
        uint256 assessmentMultiple;
        uint256 coolingOffPeriod;
        uint256 drawdownFraction;
        uint256 drawdownWindow;
    }

    /// @notice A drawdown window. @param start Its start. @param base The funded layers' total then.
    /// @param drawn Paid by the layers since.
    struct DrawdownWindow {
        uint256 start;
        uint256 base;
        uint256 drawn;
    }

    /// @notice Only the clearing house may draw.
    error OnlyClearingHouse(address caller);
    /// @notice A parameter is outside its hard bounds.
    error LayerParamOutOfBounds(string name, uint256 value, uint256 min, uint256 max);
    /// @notice An address was zero.
    error InvalidAddress(address account);
    /// @notice The stakers' fund is already connected.
    error StakersAlreadyConnected(address stakers);
    /// @notice The stakers' fund is not connected yet.
    error StakersNotConnected();
    /// @notice An amount of zero was given.
    error ZeroAmount();
    /// @notice A new member must contribute at least `required` (the published rule), not `amount`.
    error ContributionTooSmall(address account, uint256 amount, uint256 required);
    /// @notice The members' register is full.
    error TooManyMembers(uint256 max);
    /// @notice `account` is not a member.
    error NotMember(address account);
    /// @notice `account` has already given notice; it may leave from `leaveAt`.
    error NoticeAlreadyGiven(address account, uint256 leaveAt);
    /// @notice `account` has not given notice (requestLeave), then leaveFund.
    error NoNotice(address account);
    /// @notice The notice runs until `leaveAt`.
    error NoticeNotElapsed(address account, uint256 leaveAt);
    /// @notice The window to leave after the notice closed at `closedAt`: give notice again.
    error NoticeLapsed(address account, uint256 closedAt);
    /// @notice A default drew on the layers at `defaultAt`: members stay until its cooling-off period ends at `until`.
    error CoolingOff(uint256 defaultAt, uint256 until);
    /// @notice A bad debt is being deleveraged in the clearing house: members wait until it is resolved.
    error BadDebtPending();
    /// @notice The token delivered `received` instead of `expected` (fee-on-transfer tokens are not supported).
    error TransferAmountMismatch(uint256 expected, uint256 received);

    /// @notice `layer` paid `amount` towards a draw of the clearing house. The draws of one transaction, with the
    /// clearing house's BadDebtResolved, make the receipt of one default.
    event LayerDrawn(Layer indexed layer, uint256 amount);
    /// @notice The drawdown trigger cut a draw: the layers fell by `drawn` in the window that started with
    /// `base` at `windowStart`; `refused` goes to the market's loss policy instead.
    event DrawdownTriggered(uint256 base, uint256 drawn, uint256 windowStart, uint256 refused);
    /// @notice `member` was assessed `asked` and `collected` was taken from its collateral in the clearing house.
    event MemberAssessed(address indexed member, uint256 asked, uint256 collected);
    /// @notice The part of an assessment `member`'s collateral could not pay; it falls to the next layer.
    event AssessmentUncollected(address indexed member, uint256 amount);
    /// @notice `from` added `amount` to the first-loss capital.
    event FirstLossFunded(address indexed from, uint256 amount);
    /// @notice Swept fees were split: `toFirstLoss` refilled the first-loss capital, `toMembers` went to the
    /// members' fund, `toStakers` to the stakers' fund.
    event IncomeSplit(uint256 toFirstLoss, uint256 toMembers, uint256 toStakers);
    /// @notice `member` joined or added `amount` for `shares`.
    event MemberJoined(address indexed member, uint256 amount, uint256 shares, uint256 contribution);
    /// @notice `member` gave notice; it may leave from `leaveAt`, and stays liable until it does.
    event LeaveRequested(address indexed member, uint256 leaveAt);
    /// @notice `member` left with `amount` (its share of the members' fund).
    event MemberLeft(address indexed member, uint256 amount);
    /// @notice Parameters changed.
    event LayerParamsUpdated(
        uint256 firstLossTarget,
        uint256 refillShare,
        uint256 memberFeeShare,
        uint256 minContribution,
        uint256 contributionRatio,
        uint256 assessmentMultiple,
        uint256 coolingOffPeriod,
        uint256 drawdownFraction,
        uint256 drawdownWindow
    );

    /// @notice Pays up to `amount` to the clearing house, layer by layer, within the drawdown trigger.
    /// @param amount Asked, token decimals.
    /// @return paid What was transferred.
    function draw(uint256 amount) external returns (uint256 paid);

    /// @notice What a draw could pay now in full: every funded layer's balance (the stakers' within their floor
    /// and window cap), plus the most the members can be assessed so that each pays its whole pro-rata share,
    /// within the drawdown trigger.
    /// @return Token decimals.
    function availableForDraw() external view returns (uint256);

    /// @notice Splits income that arrived (fees swept by the clearing house, donations): the refill share to the
    /// first-loss capital up to its target, the members' share to their fund, the rest to the stakers' fund,
    /// whose stream it starts. Anyone may call it.
    function syncIncome() external;

    /// @notice The clearing house's open deleverage cases (read by the stakers' fund before an unstake).
    /// @return The count.
    function openDeleverageCases() external view returns (uint256);

    /// @notice Adds `amount` (pulled from the caller) to the first-loss capital: the treasury routes protocol
    /// fees here. It cannot be taken back; it only pays defaults.
    /// @param amount Token decimals.
    function fundFirstLoss(uint256 amount) external;

    /// @notice Joins as a clearing member, or adds to the caller's contribution. A new member pays at least
    /// `requiredContribution`, and the clearing house marks it (`markMember`): from then on it keeps its assessment
    /// reserve in fills and withdrawals. Only a fund the clearing house draws can take members, and an account is a
    /// member of one fund at a time.
    /// @param amount Pulled from the caller, token decimals.
    /// @return shares Shares of the members' fund received.
    function join(uint256 amount) external returns (uint256 shares);

    /// @notice Gives notice: the caller may leave from now + the cooling-off period, within LEAVE_WINDOW, and stays
    /// liable until it does. A lapsed notice may be given again.
    /// @return leaveAt When it may leave.
    function requestLeave() external returns (uint256 leaveAt);

    /// @notice Leaves with the caller's share of the members' fund, after its notice and within LEAVE_WINDOW of
    /// its end, outside the cooling-off
    /// period of the last default, and while no bad debt is being deleveraged.
    /// @return amount Paid, token decimals.
    function leaveFund() external returns (uint256 amount);

    /// @notice The contribution the published rule asks of `account` to join: the larger of the minimum and the
    /// contribution ratio of its initial margin in the clearing house.
    /// @param account The would-be member.
    /// @return Token decimals, rounded up.
    function requiredContribution(address account) external view returns (uint256);

    /// @notice What `member`'s shares of the members' fund are worth now.
    /// @param member The member.
    /// @return Token decimals, rounded down.
    function memberValue(address member) external view returns (uint256);

    /// @notice What `member` may still be assessed in its current period: k× its contribution less what was
    /// collected from it in the period.
    /// @param member The member.
    /// @return Token decimals.
    function assessmentCapLeft(address member) external view returns (uint256);

    /// @notice The stakers' ERC-4626 fund, the second layer (zero until connected). A lens tells a layers
    /// contract from a plain fund by this function.
    /// @return The fund.
    function stakers() external view returns (IInsuranceFund);

    /// @notice The members, in the order they are assessed.
    /// @return The addresses.
    function members() external view returns (address[] memory);
}
