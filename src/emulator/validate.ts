/**
 * Payload validation in the vendor's style: the first bad field, named by its path
 * (`"portfolio[3].exchange_code" is required`), becomes the 400 message.
 *
 * The payload is only read, never merged or copied into objects with a prototype chain that
 * matters: every field is read as an own property, so keys such as `__proto__` or
 * `constructor` are plain (ignored) data.
 */
import { CURRENCY_CODES, isCurrencyCode, type CurrencyCode } from './margin/fx';
import { dateTime } from './margin/expiry';
import type { OtherInput, PositionInput } from './margin/account';

/** The positions of one (master) account, in payload order. */
export interface AccountGroup {
  readonly accountCode: string;
  readonly positions: PositionInput[];
}

/** A payload that passed validation, reduced to what the emulator uses. */
export interface ValidatedRequest {
  /** One group per distinct `account_code`, in order of first appearance. */
  readonly accounts: readonly AccountGroup[];
  readonly positionCount: number;
  readonly currency: CurrencyCode;
  readonly useClosestMatch: boolean;
  /** YYYYMMDD: `bdate`, else `price_date`, else the emulator's default. */
  readonly valuationDate: number;
  readonly requestId: string | undefined;
  readonly memo: string | undefined;
  readonly executionMode: 'sync' | 'async';
  /** False when `is_live` is false or `in_memory` is true: a synchronous result is then not stored. */
  readonly persist: boolean;
}

export type Validation = { readonly ok: true; readonly value: ValidatedRequest } | { readonly ok: false; readonly error: string };

type Obj = Record<string, unknown>;

const ACCOUNT_TYPES = ['H', 'S', 'M', 'HRP', 'NHRP', 'C'];
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const GUID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})$/i;
const CALCULATION_TYPE = /^(all|margins|analytics|simm)(,(margins|analytics|simm))*$/;

/** Thrown inside this module only, to stop at the first bad field. */
class Invalid {
  constructor(readonly message: string) {}
}

function isObj(u: unknown): u is Obj {
  return typeof u === 'object' && u !== null && !Array.isArray(u);
}

function own(o: Obj, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

function has(o: Obj, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}

// Field checks take the position's index, not its path: the path string is only built for
// the message of a bad field, which keeps a payload of millions of positions cheap to check.
function at(index: number, key: string): string {
  return `"portfolio[${index}].${key}"`;
}

function requiredString(o: Obj, key: string, index: number): string {
  const v = own(o, key);
  if (v === undefined) throw new Invalid(`${at(index, key)} is required`);
  if (typeof v !== 'string') throw new Invalid(`${at(index, key)} must be a string`);
  if (v.trim() === '') throw new Invalid(`${at(index, key)} is not allowed to be empty`);
  return v;
}

function optionalString(o: Obj, key: string, index: number): string | undefined {
  const v = own(o, key);
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new Invalid(`${at(index, key)} must be a string`);
  return v;
}

function numeric(o: Obj, key: string, index: number, required: boolean): number | undefined {
  const v = own(o, key);
  if (v === undefined && !required) return undefined;
  if (v === undefined) throw new Invalid(`${at(index, key)} is required`);
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && NUMERIC.test(v.trim()) && Number.isFinite(Number(v))) return Number(v);
  throw new Invalid(`${at(index, key)} must be a number`);
}

function stringOrNumber(o: Obj, key: string, index: number, required: boolean): string | undefined {
  const v = own(o, key);
  if (v === undefined || v === null) {
    if (required) throw new Invalid(`${at(index, key)} is required`);
    return undefined;
  }
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'string') {
    if (required && v.trim() === '') throw new Invalid(`${at(index, key)} is not allowed to be empty`);
    return v;
  }
  throw new Invalid(`${at(index, key)} must be a string`);
}

function other(shape: OtherInput['shape'], positionId: string, accountCode: string, subAccountCode: string | undefined, label: string): OtherInput {
  return { shape, positionId, accountCode, subAccountCode, label };
}

function position(u: unknown, index: number): PositionInput {
  if (!isObj(u)) throw new Invalid(`"portfolio[${index}]" must be of type object`);
  const accountCode = requiredString(u, 'account_code', index);
  const subAccountCode = optionalString(u, 'sub_account_code', index);
  const givenId = stringOrNumber(u, 'position_id', index, false);
  const positionId = givenId === undefined || givenId === '' ? String(index) : givenId;

  if (has(u, 'product_class') || has(u, 'risk_type')) {
    for (const key of ['product_class', 'risk_type', 'qualifier']) requiredString(u, key, index);
    for (const key of ['bucket', 'label1', 'label2']) stringOrNumber(u, key, index, true);
    return other('CRIF', positionId, accountCode, subAccountCode, `${String(own(u, 'risk_type'))} | ${String(own(u, 'qualifier'))}`);
  }
  if (has(u, 'cusip')) {
    const cusip = requiredString(u, 'cusip', index);
    numeric(u, 'notional', index, true);
    return other('CUSIP', positionId, accountCode, subAccountCode, cusip);
  }
  if (has(u, 'currency_pair')) {
    const pair = requiredString(u, 'currency_pair', index);
    numeric(u, 'amount', index, true);
    return other('FX', positionId, accountCode, subAccountCode, pair);
  }
  if (has(u, 'maturity')) {
    const maturity = stringOrNumber(u, 'maturity', index, true) ?? '';
    numeric(u, 'notional', index, true);
    return other('BOND', positionId, accountCode, subAccountCode, maturity);
  }

  const exchangeCode = requiredString(u, 'exchange_code', index);
  const contractCode = requiredString(u, 'contract_code', index);
  const contractType = requiredString(u, 'contract_type', index);
  const contractExpiry = stringOrNumber(u, 'contract_expiry', index, true) ?? '';
  const net = numeric(u, 'net_position', index, true) ?? 0;
  const contractStrike = stringOrNumber(u, 'contract_strike', index, false) ?? '';
  const accountType = optionalString(u, 'account_type', index) ?? 'H';
  if (!ACCOUNT_TYPES.includes(accountType)) throw new Invalid(`${at(index, 'account_type')} must be one of [${ACCOUNT_TYPES.join(', ')}]`);
  return { shape: 'ETD', positionId, accountCode, subAccountCode, exchangeCode, contractCode, contractType, contractExpiry, contractStrike, net, accountType };
}

function optionalBoolean(o: Obj, key: string, fallback: boolean): boolean {
  const v = own(o, key);
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new Invalid(`"${key}" must be a boolean`);
  return v;
}

function optionalDate(o: Obj, key: string): number | undefined {
  const v = own(o, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number') throw new Invalid(`"${key}" must be a number`);
  if (!Number.isInteger(v)) throw new Invalid(`"${key}" must be an integer`);
  if (dateTime(v) === undefined) throw new Invalid(`"${key}" must be a valid date in YYYYMMDD form`);
  return v;
}

function options(o: Obj, defaultValuationDate: number): Omit<ValidatedRequest, 'accounts' | 'positionCount'> {
  const calc = own(o, 'calculation_type');
  if (calc !== undefined && (typeof calc !== 'string' || !CALCULATION_TYPE.test(calc))) {
    throw new Invalid(`"calculation_type" fails to match the required pattern: ${CALCULATION_TYPE.source}`);
  }
  const currency = own(o, 'currency_code') ?? 'USD';
  if (!isCurrencyCode(currency)) throw new Invalid(`"currency_code" must be one of [${CURRENCY_CODES.join(', ')}]`);
  const useClosestMatch = optionalBoolean(o, 'use_closest_match', true);
  const bdate = optionalDate(o, 'bdate');
  const priceDate = optionalDate(o, 'price_date');
  const requestId = own(o, 'request_id');
  if (requestId !== undefined && (typeof requestId !== 'string' || !GUID.test(requestId))) throw new Invalid('"request_id" must be a valid GUID');
  const memo = own(o, 'memo');
  if (memo !== undefined && typeof memo !== 'string') throw new Invalid('"memo" must be a string');
  const mode = own(o, 'execution_mode') ?? 'sync';
  if (mode !== 'sync' && mode !== 'async') throw new Invalid('"execution_mode" must be one of [sync, async]');
  const isLive = optionalBoolean(o, 'is_live', true);
  const inMemory = optionalBoolean(o, 'in_memory', false);
  return {
    currency,
    useClosestMatch,
    valuationDate: bdate ?? priceDate ?? defaultValuationDate,
    requestId,
    memo,
    executionMode: mode,
    persist: isLive && !inMemory,
  };
}

/**
 * Checks a parsed request body and groups its positions by account.
 *
 * Example:
 * ```ts
 * const v = validatePayload(JSON.parse(body), 20260102);
 * if (!v.ok) reply(400, { error: v.error });
 * ```
 *
 * @param body the parsed JSON body, of any type
 * @param defaultValuationDate YYYYMMDD used when the payload has neither `bdate` nor `price_date`
 */
export function validatePayload(body: unknown, defaultValuationDate: number): Validation {
  try {
    if (!isObj(body)) throw new Invalid('"value" must be of type object');
    const portfolio = own(body, 'portfolio');
    if (portfolio === undefined) throw new Invalid('"portfolio" is required');
    if (!Array.isArray(portfolio)) throw new Invalid('"portfolio" must be an array');
    if (portfolio.length === 0) throw new Invalid('"portfolio" must contain at least 1 items');
    const groups = new Map<string, AccountGroup>();
    for (let i = 0; i < portfolio.length; i++) {
      const p = position(portfolio[i], i);
      const group = groups.get(p.accountCode);
      if (group) group.positions.push(p);
      else groups.set(p.accountCode, { accountCode: p.accountCode, positions: [p] });
    }
    const opts = options(body, defaultValuationDate);
    return { ok: true, value: { ...opts, accounts: [...groups.values()], positionCount: portfolio.length } };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, error: e.message };
    throw e;
  }
}
