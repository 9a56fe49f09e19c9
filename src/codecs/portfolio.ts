/**
 * Codecs of the request payload (`POST /portfolios` and `POST /portfolios/batch`).
 *
 * These codecs validate; they never convert. `decode` returns the caller's own objects,
 * so the payload a user gives is the payload sent, unknown fields and string numbers included.
 */
import * as t from 'io-ts';
import { NumericInput, nullish } from './primitives';

const optionalText = nullish(t.string);

/** A listed future or option (ETD). */
export const EtdPosition = t.intersection(
  [
    t.type({
      account_code: t.string,
      exchange_code: t.string,
      contract_code: t.string,
      contract_type: t.string,
      contract_expiry: t.union([t.string, t.number]),
      net_position: NumericInput,
    }),
    t.partial({
      contract_strike: nullish(t.union([t.string, t.number])),
      account_type: optionalText,
      sub_account_code: optionalText,
      long_qty: nullish(NumericInput),
      short_qty: nullish(NumericInput),
    }),
  ],
  'EtdPosition',
);

/** A bond. */
export const BondPosition = t.intersection(
  [t.type({ account_code: t.string, maturity: t.union([t.string, t.number]), notional: NumericInput }), t.partial({ coupon_rate: nullish(NumericInput) })],
  'BondPosition',
);

/** An FX position. */
export const FxPosition = t.type({ account_code: t.string, currency_pair: t.string, amount: NumericInput }, 'FxPosition');

/** A bond identified by CUSIP. */
export const CusipPosition = t.type({ account_code: t.string, cusip: t.string, notional: NumericInput }, 'CusipPosition');

/** An ISDA CRIF sensitivity. */
export const CrifPosition = t.type(
  {
    account_code: t.string,
    product_class: t.string,
    risk_type: t.string,
    qualifier: t.string,
    bucket: t.union([t.string, t.number]),
    label1: t.string,
    label2: t.string,
  },
  'CrifPosition',
);

export type EtdPosition = t.TypeOf<typeof EtdPosition>;
export type BondPosition = t.TypeOf<typeof BondPosition>;
export type FxPosition = t.TypeOf<typeof FxPosition>;
export type CusipPosition = t.TypeOf<typeof CusipPosition>;
export type CrifPosition = t.TypeOf<typeof CrifPosition>;
/** One position; every shape carries `account_code`, and any other field the caller adds. */
export type Position = (EtdPosition | BondPosition | FxPosition | CusipPosition | CrifPosition) & Record<string, unknown>;

/** Which of the five shapes a position claims to be, judged by its distinguishing field. */
export function positionShape(u: Record<string, unknown>): t.Mixed {
  if ('product_class' in u || 'risk_type' in u) return CrifPosition;
  if ('cusip' in u) return CusipPosition;
  if ('currency_pair' in u) return FxPosition;
  if ('maturity' in u) return BondPosition;
  return EtdPosition;
}

/**
 * One position of any shape. The shape is chosen first, then checked, so an error names the
 * missing field of that shape instead of five lines, one per union member.
 */
export const PositionCodec = new t.Type<Position, Position, unknown>(
  'Position',
  (u): u is Position => t.UnknownRecord.is(u) && positionShape(u).is(u),
  (u, c) => {
    if (!t.UnknownRecord.is(u)) return t.failure(u, c, 'expected an object');
    const shape = positionShape(u);
    // The shape gets its own context entry: without it the error paths would stop at the
    // position (`portfolio[1]`) instead of naming its field (`portfolio[1].amount`).
    const result = shape.validate(u, t.appendContext(c, '', shape, u));
    // Success returns the caller's own object, never a copy: nothing is re-typed on the way out.
    return result._tag === 'Right' ? t.success(u as Position) : result;
  },
  (p) => p,
);

const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY', 'CHF', 'AUD', 'CAD', 'BRL', 'CNH', 'HKD', 'INR', 'NZD'] as const;
/** The currencies results can be converted to. */
export const CurrencyCode = t.keyof(Object.fromEntries(CURRENCIES.map((c) => [c, null])) as Record<(typeof CURRENCIES)[number], null>, 'CurrencyCode');
export type CurrencyCode = t.TypeOf<typeof CurrencyCode>;

/** The request body. Unknown top-level options are allowed and sent as given. */
export const PortfolioRequest = t.intersection(
  [
    t.type({ portfolio: t.array(PositionCodec) }),
    t.partial({
      calculation_type: optionalText,
      currency_code: nullish(CurrencyCode),
      request_id: optionalText,
      use_closest_match: nullish(t.boolean),
    }),
  ],
  'PortfolioRequest',
);
export type PortfolioRequest = { portfolio: Position[] } & {
  calculation_type?: string;
  currency_code?: CurrencyCode;
  request_id?: string;
  use_closest_match?: boolean;
} & Record<string, unknown>;

/** The processing modes of `POST /portfolios/batch` (`x-processing-mode`). */
export const PROCESSING_MODES = ['fifo', 'priority', 'replace_all'] as const;
export type ProcessingMode = (typeof PROCESSING_MODES)[number];

/** The distinct account codes of a portfolio, in the order they first appear. */
export function accountCodesOf(portfolio: readonly Position[]): string[] {
  const seen = new Set<string>();
  for (const p of portfolio) seen.add(p.account_code);
  return [...seen];
}
