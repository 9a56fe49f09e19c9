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

/** The latest live result of one account (or sub-account, when `parent_portfolio_id` is set). */
export const AccountResult = t.intersection(
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
