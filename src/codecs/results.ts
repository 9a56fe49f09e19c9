/**
 * Codecs of result rows (`GET /results/accounts`) and of the synchronous answer.
 * Only the fields the library reads are checked; every other field is kept as it came.
 */
import * as t from 'io-ts';
import { Numeric, nullish } from './primitives';

/** One entry of a row's `exceptions` or `closest_matches`. */
export const PositionNote = t.partial(
  { position_id: nullish(t.union([t.string, t.number])), engine: nullish(t.string), exception: nullish(t.string) },
  'PositionNote',
);
export type PositionNote = t.TypeOf<typeof PositionNote>;

/** AccountResult as io-ts builds it; {@link AccountResult} is this with a faster `is`. */
const AccountResultShape = t.intersection(
  [
    t.type({ account_code: t.string }),
    t.partial({
      portfolio_id: nullish(t.string),
      parent_portfolio_id: nullish(t.string),
      request_id: nullish(t.string),
      submitted_time: nullish(t.string),
      status: nullish(t.string),
      currency_code: nullish(t.string),
      initial_margin: nullish(Numeric),
      gross_margin: nullish(Numeric),
      requirement: nullish(Numeric),
      margin_by_ccp: nullish(t.array(t.UnknownRecord)),
      margin_by_contract: nullish(t.array(t.UnknownRecord)),
      exceptions: nullish(t.array(PositionNote)),
      closest_matches: nullish(t.array(PositionNote)),
    }),
  ],
  'AccountResult',
);

const isString = t.string.is;
const isRecord = t.UnknownRecord.is;
const isNumeric = Numeric.is;
const isNote = PositionNote.is;
/** `nullish(codec).is`: absent, or neither null nor refused by `is`. */
const absentOr = (u: unknown, is: (v: unknown) => boolean): boolean => u === undefined || (u !== null && is(u));
/** `t.array(codec).is`. */
const arrayOf = (u: unknown, is: (v: unknown) => boolean): boolean => Array.isArray(u) && u.every(is);
const isRecords = (u: unknown): boolean => arrayOf(u, isRecord);
const isNotes = (u: unknown): boolean => arrayOf(u, isNote);

/**
 * `AccountResultShape.is` written out field by field: the same tests on the same reads, in
 * about a sixth of the time. io-ts's generic loops (intersection, partial, nullish) call
 * every field's `is` through one shared call site, which V8 cannot inline; a batch's rows are
 * checked one by one, so that cost is paid 100,000 times for a large live store.
 * spec/codecs/results.spec.ts holds the two to the same answer on any value.
 */
function isAccountResult(u: unknown): u is t.TypeOf<typeof AccountResultShape> {
  if (!isRecord(u)) return false;
  const r = u as Record<string, unknown>;
  return (
    isString(r.account_code) &&
    absentOr(r.portfolio_id, isString) &&
    absentOr(r.parent_portfolio_id, isString) &&
    absentOr(r.request_id, isString) &&
    absentOr(r.submitted_time, isString) &&
    absentOr(r.status, isString) &&
    absentOr(r.currency_code, isString) &&
    absentOr(r.initial_margin, isNumeric) &&
    absentOr(r.gross_margin, isNumeric) &&
    absentOr(r.requirement, isNumeric) &&
    absentOr(r.margin_by_ccp, isRecords) &&
    absentOr(r.margin_by_contract, isRecords) &&
    absentOr(r.exceptions, isNotes) &&
    absentOr(r.closest_matches, isNotes)
  );
}

/** The latest live result of one account (or sub-account, when `parent_portfolio_id` is set). */
export const AccountResult: typeof AccountResultShape = new t.IntersectionType(
  AccountResultShape.name,
  isAccountResult,
  AccountResultShape.validate,
  AccountResultShape.encode,
  AccountResultShape.types,
);
export type AccountResult = t.TypeOf<typeof AccountResult>;

/** `GET /results/accounts` → 200. */
export const AccountResults = t.array(AccountResult, 'AccountResults');
export type AccountResults = t.TypeOf<typeof AccountResults>;

/** `POST /portfolios` and `GET /results?request_id=` → 200. */
export const SyncResponse = t.partial(
  {
    request_id: nullish(t.string),
    username: nullish(t.string),
    status: nullish(t.string),
    data: nullish(t.array(AccountResult)),
    runtime: nullish(Numeric),
    parameters: nullish(t.UnknownRecord),
    memo: nullish(t.string),
    error: nullish(t.unknown),
  },
  'SyncResponse',
);
export type SyncResponse = t.TypeOf<typeof SyncResponse>;

/** `GET /healthcheck/analytics-engine` → 200. */
export const HealthcheckEntries = t.array(
  t.intersection([t.partial({ service: nullish(t.string), status: nullish(t.string), version: nullish(t.string) }), t.UnknownRecord]),
  'HealthcheckEntries',
);
export type HealthcheckEntries = t.TypeOf<typeof HealthcheckEntries>;
