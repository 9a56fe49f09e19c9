import { validatePayload } from '../../src/emulator/validate';
import { etd } from './support';

function errorOf(body: unknown): string | undefined {
  const v = validatePayload(body, 20260102);
  return v.ok ? undefined : v.error;
}

describe('validatePayload', () => {
  it('should name the first bad field the vendor way', () => {
    const portfolio = [etd('A'), etd('A'), etd('B'), etd('B', { exchange_code: undefined }), etd('C', { contract_code: undefined })];
    expect(errorOf({ portfolio })).toBe('"portfolio[3].exchange_code" is required');
  });

  it.each([
    [[1, 2], '"value" must be of type object'],
    ['text', '"value" must be of type object'],
    [null, '"value" must be of type object'],
    [{}, '"portfolio" is required'],
    [{ portfolio: {} }, '"portfolio" must be an array'],
    [{ portfolio: [] }, '"portfolio" must contain at least 1 items'],
    [{ portfolio: ['x'] }, '"portfolio[0]" must be of type object'],
    [{ portfolio: [etd('A', { account_code: 7 })] }, '"portfolio[0].account_code" must be a string'],
    [{ portfolio: [etd('A', { account_code: ' ' })] }, '"portfolio[0].account_code" is not allowed to be empty'],
    [{ portfolio: [etd('A', { net_position: '1,000' })] }, '"portfolio[0].net_position" must be a number'],
    [{ portfolio: [etd('A', { net_position: undefined })] }, '"portfolio[0].net_position" is required'],
    [{ portfolio: [etd('A', { account_type: 'X' })] }, '"portfolio[0].account_type" must be one of [H, S, M, HRP, NHRP, C]'],
    [{ portfolio: [etd('A', { contract_expiry: { y: 2026 } })] }, '"portfolio[0].contract_expiry" must be a string'],
    [{ portfolio: [{ account_code: 'A', currency_pair: 'EUR_USD' }] }, '"portfolio[0].amount" is required'],
    [{ portfolio: [etd('A')], currency_code: 'XAU' }, '"currency_code" must be one of [USD, EUR, GBP, JPY, CHF, AUD, CAD, BRL, CNH, HKD, INR, NZD]'],
    [{ portfolio: [etd('A')], use_closest_match: 'yes' }, '"use_closest_match" must be a boolean'],
    [{ portfolio: [etd('A')], bdate: '20260102' }, '"bdate" must be a number'],
    [{ portfolio: [etd('A')], bdate: 20260231 }, '"bdate" must be a valid date in YYYYMMDD form'],
    [{ portfolio: [etd('A')], request_id: 'abc' }, '"request_id" must be a valid GUID'],
    [{ portfolio: [etd('A')], execution_mode: 'later' }, '"execution_mode" must be one of [sync, async]'],
  ])('should refuse %j with %s', (body, message) => {
    expect(errorOf(body)).toBe(message);
  });

  it('should group positions by account in order of first appearance, id positions by index when they have no position_id, and read numbers from strings', () => {
    const v = validatePayload({ portfolio: [etd('B', { net_position: '-3' }), etd('A', { net_position: 2 }), etd('B', { position_id: 99 })], bdate: 20260105 }, 20260102);
    if (!v.ok) throw new Error(v.error);
    expect(v.value.accounts.map((a) => [a.accountCode, a.positions.map((p) => p.positionId)])).toEqual([['B', ['0', '99']], ['A', ['1']]]);
    expect(v.value.accounts[0].positions[0]).toMatchObject({ net: -3 });
    expect(v.value.valuationDate).toBe(20260105);
    expect(v.value).toMatchObject({ currency: 'USD', useClosestMatch: true, executionMode: 'sync', persist: true });
  });

  it('should treat __proto__ and constructor as plain data', () => {
    const body = JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"portfolio":[{"account_code":"__proto__","exchange_code":"NYMEX","contract_code":"CL","contract_type":"FUT","contract_expiry":"202612","net_position":1,"__proto__":{"net_position":5}}]}');
    const v = validatePayload(body, 20260102);
    if (!v.ok) throw new Error(v.error);
    expect(v.value.accounts[0]).toMatchObject({ accountCode: '__proto__', positions: [{ net: 1 }] });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('should not read keys inherited from Object.prototype as fields', () => {
    // `constructor` and `toString` exist on every object's prototype; a position without them
    // must not pick them up (it has no `account_code` of its own, so that is the error).
    expect(errorOf({ portfolio: [{ exchange_code: 'NYMEX' }] })).toBe('"portfolio[0].account_code" is required');
    expect(errorOf(Object.assign(Object.create({ portfolio: [etd('A')] }), {}))).toBe('"portfolio" is required');
  });
});
