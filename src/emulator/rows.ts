/**
 * Result rows (`AccountResult`): one master row per account, plus one row per sub-account
 * when positions carry `sub_account_code`.
 */
import { randomUUID } from 'node:crypto';
import { marginAccount, type AccountMargin, type CcpMargin, type ContractMargin, type EnrichedPosition, type PositionNote, type PositionInput } from './margin/account';
import type { AccountGroup, ValidatedRequest } from './validate';

/** One row of `GET /results/accounts` (and of `data` in a synchronous answer). */
export interface AccountRow {
  readonly request_id: string;
  readonly portfolio_id: string;
  readonly parent_portfolio_id?: string;
  readonly username: string;
  readonly submitted_time: string;
  readonly account_code: string;
  readonly account_type: string;
  readonly status: string;
  readonly price_date: number;
  readonly currency_code: string;
  readonly initial_margin: number;
  readonly gross_margin: number;
  readonly requirement: number;
  readonly gross_requirement: number;
  readonly option_liquidation_value: number;
  readonly delivery_margin: number;
  readonly cvm: number;
  readonly sellers_security: number;
  readonly buyers_security: number;
  readonly margin_by_ccp: readonly CcpMargin[];
  readonly margin_by_contract: readonly ContractMargin[];
  readonly exceptions: readonly PositionNote[];
  readonly closest_matches: readonly PositionNote[];
  readonly portfolio: readonly EnrichedPosition[];
}

/** The rows of one account after a calculation. */
export interface AccountOutcome {
  /** False when no position of the account could be margined: the account failed. */
  readonly ok: boolean;
  readonly master: AccountRow;
  /** Sub-account rows that margined something, in order of first appearance. */
  readonly subs: readonly AccountRow[];
  readonly exceptionCount: number;
}

/** Who and when, stamped on every row of one calculation. */
export interface RowStamp {
  readonly requestId: string;
  readonly username: string;
  /** ISO 8601. */
  readonly submittedTime: string;
}

/**
 * A fresh `portfolio_id`: 32 hex digits, the vendor's form.
 *
 * Example: `newPortfolioId()` → 'ca6b921c04f6afa9e35608d61a0223b3'
 */
export function newPortfolioId(): string {
  return randomUUID().replace(/-/g, '');
}

function row(accountCode: string, m: AccountMargin, req: ValidatedRequest, stamp: RowStamp, parent?: string): AccountRow {
  return {
    request_id: stamp.requestId,
    portfolio_id: newPortfolioId(),
    ...(parent === undefined ? {} : { parent_portfolio_id: parent }),
    username: stamp.username,
    submitted_time: stamp.submittedTime,
    account_code: accountCode,
    account_type: m.speculator ? 'S' : 'H',
    status: m.marginedPositions > 0 ? 'done' : 'failed',
    price_date: req.valuationDate,
    currency_code: req.currency,
    initial_margin: m.initialMargin,
    gross_margin: m.grossMargin,
    requirement: m.initialMargin,
    gross_requirement: m.grossMargin,
    option_liquidation_value: m.optionLiquidationValue,
    delivery_margin: 0,
    cvm: 0,
    sellers_security: 0,
    buyers_security: 0,
    margin_by_ccp: m.byCcp,
    margin_by_contract: m.byContract,
    exceptions: m.exceptions,
    closest_matches: m.closestMatches,
    portfolio: m.portfolio,
  };
}

/**
 * Margins one account and builds its rows. The master row covers every position of the account
 * (offsets between sub-accounts included); each sub-account row margins only that sub-account's
 * positions and points at the master through `parent_portfolio_id`.
 *
 * Example: `accountRows(group, request, { requestId: batchId, username, submittedTime: now })`
 *
 * @param group the account's positions
 * @param req the validated request (currency, closest-match policy, valuation date)
 * @param stamp request id, user name and time for the rows
 */
export function accountRows(group: AccountGroup, req: ValidatedRequest, stamp: RowStamp): AccountOutcome {
  const ctx = { currency: req.currency, useClosestMatch: req.useClosestMatch, valuationDate: req.valuationDate };
  const whole = marginAccount(group.positions, ctx);
  const master = row(group.accountCode, whole, req, stamp);
  const bySub = new Map<string, PositionInput[]>();
  for (const p of group.positions) {
    if (p.subAccountCode === undefined) continue;
    const list = bySub.get(p.subAccountCode);
    if (list) list.push(p);
    else bySub.set(p.subAccountCode, [p]);
  }
  const subs: AccountRow[] = [];
  if (whole.marginedPositions > 0) {
    for (const [code, positions] of bySub) {
      const m = marginAccount(positions, ctx);
      if (m.marginedPositions > 0) subs.push(row(code, m, req, stamp, master.portfolio_id));
    }
  }
  return { ok: whole.marginedPositions > 0, master, subs, exceptionCount: whole.exceptions.length };
}
