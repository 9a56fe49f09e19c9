/**
 * Margin of one account (or one sub-account): resolve each position against the contract
 * table, net it, margin each contract, then convert and total.
 */
import type { OptionRight } from './black76';
import { findContract, listedMonths, SPECULATOR_FACTOR, SPECULATOR_TYPES, type ContractSpec } from './contracts';
import { dateTime, nearestListed, parseExpiry, type ContractMonth } from './expiry';
import { futuresMargin } from './futures';
import { fxRate, type CurrencyCode } from './fx';
import { optionsMargin, type OptionSeries } from './options';

/** A listed future or option position, as validation normalised it. */
export interface EtdInput {
  readonly shape: 'ETD';
  /** `position_id` of the payload, or the position's index in `portfolio` when it has none. */
  readonly positionId: string;
  readonly accountCode: string;
  readonly subAccountCode: string | undefined;
  readonly exchangeCode: string;
  readonly contractCode: string;
  readonly contractType: string;
  readonly contractExpiry: string;
  /** '' for futures. */
  readonly contractStrike: string;
  readonly net: number;
  readonly accountType: string;
}

/** A bond, FX, CUSIP or CRIF position: accepted, but the emulator has no model for it. */
export interface OtherInput {
  readonly shape: 'BOND' | 'FX' | 'CUSIP' | 'CRIF';
  readonly positionId: string;
  readonly accountCode: string;
  readonly subAccountCode: string | undefined;
  /** What identifies it in a message, e.g. 'EUR_USD'. */
  readonly label: string;
}

export type PositionInput = EtdInput | OtherInput;

/** What a calculation is asked for. */
export interface MarginContext {
  readonly currency: CurrencyCode;
  readonly useClosestMatch: boolean;
  /** YYYYMMDD. */
  readonly valuationDate: number;
}

/** An `exceptions` or `closest_matches` entry. */
export interface PositionNote {
  readonly position_id: string;
  readonly engine: string;
  readonly exception: string;
  readonly [extra: string]: string;
}

/** One `margin_by_ccp` entry (figures in the result currency). */
export interface CcpMargin {
  clearing_org: string;
  result_type: string;
  currency_code: string;
  fxrate: number;
  initial_margin: number;
  option_liquidation_value: number;
  delivery_margin: number;
  cvm: number;
  sellers_security: number;
  buyers_security: number;
}

/** One `margin_by_contract` entry (figures in the result currency; `native_*` in the contract's). */
export interface ContractMargin {
  clearing_org: string;
  result_type: string;
  exchange: string;
  contract_code: string;
  cc_code: string;
  cc_name: string;
  sector: string;
  sub_sector: string;
  currency_code: string;
  fxrate: number;
  initial_margin: number;
  gross_margin: number;
  option_liquidation_value: number;
  delivery_margin: number;
  cvm: number;
  sellers_security: number;
  buyers_security: number;
  native_currency_code: string;
  native_initial_margin: number;
}

/** A position as it appears in a row's `portfolio`: what was sent, and what it resolved to. */
export type EnrichedPosition = Record<string, string | number | boolean>;

/** Everything the rows of one account need. */
export interface AccountMargin {
  /** Positions that entered the calculation; 0 means the account could not be margined. */
  readonly marginedPositions: number;
  readonly initialMargin: number;
  readonly grossMargin: number;
  readonly optionLiquidationValue: number;
  readonly speculator: boolean;
  readonly byCcp: CcpMargin[];
  readonly byContract: ContractMargin[];
  readonly exceptions: PositionNote[];
  readonly closestMatches: PositionNote[];
  readonly portfolio: EnrichedPosition[];
}

/**
 * Rounds to cents, the precision every reported figure has.
 *
 * Example: `round2(55555.5555)` is 55555.56.
 *
 * @param x an amount
 */
export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/**
 * `FUT`, `CALL` or `PUT` for the spellings files use (case-insensitive); undefined for anything else.
 *
 * Example: `normaliseContractType('Future')` is 'FUT'; `normaliseContractType('p')` is 'PUT'.
 *
 * @param raw the `contract_type` of a position
 */
export function normaliseContractType(raw: string): 'FUT' | OptionRight | undefined {
  switch (raw.trim().toUpperCase()) {
    case 'FUT':
    case 'F':
    case 'FUTURE':
    case 'FUTURES':
      return 'FUT';
    case 'CALL':
    case 'C':
      return 'CALL';
    case 'PUT':
    case 'P':
      return 'PUT';
    default:
      return undefined;
  }
}

/**
 * `EX | CODE | TYPE | EXPIRY | STRIKE`, the way the vendor names a position in a message (strike 0 for futures).
 *
 * Example: 'ICE.EU | B | FUT | 20250300 | 0'
 *
 * @param p the position as written in the payload
 */
export function positionLabel(p: EtdInput): string {
  return `${p.exchangeCode} | ${p.contractCode} | ${p.contractType} | ${p.contractExpiry} | ${p.contractStrike === '' ? '0' : p.contractStrike}`;
}

type Resolved =
  | { readonly ok: true; readonly spec: ContractSpec; readonly type: 'FUT' | OptionRight; readonly month: ContractMonth; readonly strike: number; readonly matched?: PositionNote }
  | { readonly ok: false; readonly exception: PositionNote };

function note(positionId: string, exception: string, extra: Record<string, string> = {}): PositionNote {
  return { position_id: positionId, engine: 'validation', exception, ...extra };
}

function resolve(p: EtdInput, ctx: MarginContext): Resolved {
  const label = positionLabel(p);
  const type = normaliseContractType(p.contractType);
  const spec = findContract(p.exchangeCode, p.contractCode);
  if (!spec || !type || (type === 'FUT') !== (spec.kind === 'future')) {
    return { ok: false, exception: note(p.positionId, `Unknown contract on position ${label}`) };
  }
  const wanted = parseExpiry(p.contractExpiry);
  if (wanted === undefined) return { ok: false, exception: note(p.positionId, `Invalid \`expiry\` on position ${label}`) };
  let month = wanted;
  let matched: PositionNote | undefined;
  const listed = listedMonths(spec);
  if (!listed.includes(wanted)) {
    if (!ctx.useClosestMatch) return { ok: false, exception: note(p.positionId, `Invalid \`expiry\` on position ${label}`) };
    month = nearestListed(wanted, listed);
    matched = note(p.positionId, `Applied closest matching expiry on position ${label}`, { matched_expiry: String(month) });
  }
  let strike = 0;
  if (type !== 'FUT') {
    strike = p.contractStrike.trim() === '' ? NaN : Number(p.contractStrike);
    if (!Number.isFinite(strike) || strike <= 0) {
      return { ok: false, exception: note(p.positionId, `Invalid \`strike\` on position ${label}`) };
    }
  }
  return { ok: true, spec, type, month, strike, matched };
}

interface Holding {
  readonly spec: ContractSpec;
  readonly futures: Map<ContractMonth, number>;
  readonly options: Map<string, { month: ContractMonth; right: OptionRight; strike: number; net: number }>;
}

// Kept small on purpose: a row carries one of these per position, so on large accounts they
// are most of the results body. What was sent (to match positions up) and what it resolved to.
function enrich(p: EtdInput, r: Resolved): EnrichedPosition {
  const out: EnrichedPosition = {
    position_id: p.positionId,
    exchange_code: p.exchangeCode,
    contract_code: p.contractCode,
    contract_type: p.contractType,
    contract_expiry: p.contractExpiry,
    net_position: p.net,
    margined: r.ok,
  };
  if (p.contractStrike !== '') out.contract_strike = p.contractStrike;
  if (p.subAccountCode !== undefined) out.sub_account_code = p.subAccountCode;
  if (r.ok) out.resolved_expiry = String(r.month);
  return out;
}

/**
 * Margins the positions of one account (or one sub-account) together.
 *
 * Positions are netted per contract month (futures) or per series (options), each contract is
 * margined on its own ({@link futuresMargin}, {@link optionsMargin}), figures are converted to
 * `ctx.currency` and, for a speculator account (any position of type S or NHRP), multiplied by 1.1.
 * A position that cannot be resolved becomes an `exceptions` entry and the rest is still margined.
 *
 * Example: `marginAccount([clDec26Long10], { currency: 'USD', useClosestMatch: true, valuationDate: 20260102 }).initialMargin` is 60000.
 *
 * @param positions the account's positions, in payload order
 * @param ctx result currency, closest-match policy and valuation date
 */
export function marginAccount(positions: readonly PositionInput[], ctx: MarginContext): AccountMargin {
  const valuationTime = dateTime(ctx.valuationDate) ?? 0;
  const exceptions: PositionNote[] = [];
  const closestMatches: PositionNote[] = [];
  const portfolio: EnrichedPosition[] = [];
  const holdings = new Map<ContractSpec, Holding>();
  let marginedPositions = 0;
  let speculator = false;

  for (const p of positions) {
    if (p.shape !== 'ETD') {
      exceptions.push(note(p.positionId, `Unsupported position type ${p.shape} on position ${p.label}`));
      portfolio.push({ position_id: p.positionId, position_type: p.shape, margined: false });
      continue;
    }
    const r = resolve(p, ctx);
    portfolio.push(enrich(p, r));
    if (!r.ok) {
      exceptions.push(r.exception);
      continue;
    }
    if (r.matched) closestMatches.push(r.matched);
    marginedPositions++;
    if (SPECULATOR_TYPES.includes(p.accountType)) speculator = true;
    let h = holdings.get(r.spec);
    if (!h) {
      h = { spec: r.spec, futures: new Map(), options: new Map() };
      holdings.set(r.spec, h);
    }
    if (r.type === 'FUT') {
      h.futures.set(r.month, (h.futures.get(r.month) ?? 0) + p.net);
    } else {
      const key = `${r.month}|${r.type}|${r.strike}`;
      const s = h.options.get(key);
      if (s) s.net += p.net;
      else h.options.set(key, { month: r.month, right: r.type, strike: r.strike, net: p.net });
    }
  }

  const factor = speculator ? SPECULATOR_FACTOR : 1;
  const byContract: ContractMargin[] = [];
  const ccps = new Map<string, CcpMargin>();
  let initialMargin = 0;
  let grossMargin = 0;
  let optionLiquidationValue = 0;
  for (const { spec, futures, options } of holdings.values()) {
    let margin: number;
    let gross: number;
    let olv = 0;
    if (spec.kind === 'future') {
      ({ margin, gross } = futuresMargin(spec, futures));
    } else {
      const series: OptionSeries[] = [...options.values()].filter((s) => s.net !== 0);
      const m = optionsMargin(spec, series, valuationTime);
      ({ margin, gross } = m);
      olv = m.liquidationValue;
    }
    const fx = fxRate(spec.currency, ctx.currency);
    const im = margin * factor * fx;
    const gm = gross * factor * fx;
    const lv = olv * fx;
    initialMargin += im;
    grossMargin += gm;
    optionLiquidationValue += lv;
    byContract.push({
      clearing_org: spec.clearingOrg,
      result_type: 'span',
      exchange: spec.exchange,
      contract_code: spec.code,
      cc_code: `${spec.exchange}-${spec.code}`,
      cc_name: spec.name,
      sector: spec.sector,
      sub_sector: spec.subSector,
      currency_code: ctx.currency,
      fxrate: fx,
      initial_margin: round2(im),
      gross_margin: round2(gm),
      option_liquidation_value: round2(lv),
      delivery_margin: 0,
      cvm: 0,
      sellers_security: 0,
      buyers_security: 0,
      native_currency_code: spec.currency,
      native_initial_margin: round2(margin * factor),
    });
    const ccp = ccps.get(spec.clearingOrg) ?? {
      clearing_org: spec.clearingOrg,
      result_type: 'span',
      currency_code: ctx.currency,
      fxrate: 1,
      initial_margin: 0,
      option_liquidation_value: 0,
      delivery_margin: 0,
      cvm: 0,
      sellers_security: 0,
      buyers_security: 0,
    };
    ccp.initial_margin += im;
    ccp.option_liquidation_value += lv;
    ccps.set(spec.clearingOrg, ccp);
  }
  const byCcp = [...ccps.values()].map((c) => ({ ...c, initial_margin: round2(c.initial_margin), option_liquidation_value: round2(c.option_liquidation_value) }));

  return {
    marginedPositions,
    initialMargin: round2(initialMargin),
    grossMargin: round2(grossMargin),
    optionLiquidationValue: round2(optionLiquidationValue),
    speculator,
    byCcp,
    byContract,
    exceptions,
    closestMatches,
    portfolio,
  };
}
