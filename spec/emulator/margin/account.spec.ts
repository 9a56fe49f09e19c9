import { marginAccount, type EtdInput, type MarginContext } from '../../../src/emulator/margin/account';
import { validatePayload } from '../../../src/emulator/validate';
import { samplePortfolio } from '../support';

const USD: MarginContext = { currency: 'USD', useClosestMatch: true, valuationDate: 20260102 };

function pos(overrides: Partial<EtdInput>): EtdInput {
  return {
    shape: 'ETD',
    positionId: '0',
    accountCode: 'A',
    subAccountCode: undefined,
    exchangeCode: 'NYMEX',
    contractCode: 'CL',
    contractType: 'FUT',
    contractExpiry: '202612',
    contractStrike: '',
    net: 10,
    accountType: 'H',
    ...overrides,
  };
}

describe('marginAccount', () => {
  it('should margin the sample portfolio with no exceptions and no closest matches', () => {
    const v = validatePayload({ portfolio: samplePortfolio() }, 20260102);
    if (!v.ok) throw new Error(v.error);
    expect(v.value.accounts.map((a) => a.accountCode)).toEqual(['c9']);
    const m = marginAccount(v.value.accounts[0].positions, USD);
    expect(m.exceptions).toEqual([]);
    expect(m.closestMatches).toEqual([]);
    expect(m.marginedPositions).toBe(32);
    // One contract entry per contract of the file, each in USD.
    expect(m.byContract.map((c) => c.cc_code).sort()).toEqual(
      ['ICE.EU-B', 'ICE.EU-BAR', 'ICE.EU-BOB', 'ICE.EU-JKM', 'ICE.EU-M', 'ICE.EU-PHE', 'ICE.EU-SMT', 'ICE.EU-TFO', 'LME-AAD', 'LME-AHD', 'NYMEX-CL', 'NYMEX-CS', 'NYMEX-LO'],
    );
    expect(m.byCcp.map((c) => c.clearing_org).sort()).toEqual(['CME', 'ICEU', 'LMEC']);
    // SMT: one position, long 6 lots × 8,200 = 49,200 USD.
    expect(m.byContract.find((c) => c.cc_code === 'ICE.EU-SMT')?.initial_margin).toBe(49200);
    // B: +99,000 Dec-26, −88,000 Jan-27, scan 6,200, credit 0.8:
    //   187,000 × 6,200 − 0.8 × 88,000 × 6,200 = 1,159,400,000 − 436,480,000 = 722,920,000.
    expect(m.byContract.find((c) => c.cc_code === 'ICE.EU-B')?.initial_margin).toBe(722920000);
    const sum = m.byContract.reduce((s, c) => s + c.initial_margin, 0);
    expect(m.initialMargin).toBeCloseTo(sum, 1);
    expect(m.grossMargin).toBeGreaterThanOrEqual(m.initialMargin);
  });

  it('should convert to the result currency with the FX table', () => {
    // 10 CL = 60,000 USD; EUR at 1.08 USD: 60,000 / 1.08 = 55,555.555… → 55,555.56.
    const m = marginAccount([pos({})], { ...USD, currency: 'EUR' });
    expect(m.initialMargin).toBe(55555.56);
    expect(m.byContract[0]).toMatchObject({ currency_code: 'EUR', native_currency_code: 'USD', native_initial_margin: 60000, initial_margin: 55555.56 });
  });

  it('should charge speculators 10 % more than hedgers', () => {
    // 10 CL: hedger 60,000; speculator 60,000 × 1.1 = 66,000.
    expect(marginAccount([pos({})], USD).initialMargin).toBe(60000);
    expect(marginAccount([pos({ accountType: 'S' })], USD).initialMargin).toBe(66000);
  });

  it('should accept every spelling of contract types and expiries', () => {
    const spellings = [
      pos({ contractType: 'F', contractExpiry: 'DEC-26', net: 1 }),
      pos({ contractType: 'Future', contractExpiry: '20261200', net: 1 }),
      pos({ contractType: 'future', contractExpiry: '20261215', net: 1 }),
      pos({ contractCode: 'LO', contractType: 'C', contractStrike: '80', net: 1 }),
      pos({ contractCode: 'LO', contractType: 'p', contractStrike: '60', net: 1 }),
    ];
    const m = marginAccount(spellings, USD);
    expect(m.exceptions).toEqual([]);
    expect(m.marginedPositions).toBe(5);
    // The three futures are the same month: 3 lots × 6,000.
    expect(m.byContract.find((c) => c.cc_code === 'NYMEX-CL')?.initial_margin).toBe(18000);
  });

  it('should report an unknown contract and still margin the rest of the account', () => {
    const m = marginAccount([pos({ positionId: 'p1', exchangeCode: 'NOPE', contractCode: 'XX', contractExpiry: '202612' }), pos({ positionId: 'p2' })], USD);
    expect(m.exceptions).toEqual([{ position_id: 'p1', engine: 'validation', exception: 'Unknown contract on position NOPE | XX | FUT | 202612 | 0' }]);
    expect(m.initialMargin).toBe(60000);
    expect(m.marginedPositions).toBe(1);
  });

  it('should move an unlisted expiry to the nearest listed one, or refuse it without closest match', () => {
    // FDAX lists quarterly: Apr-26 → Mar-26. 2 lots × 40,000 EUR = 80,000 EUR = 86,400 USD.
    const fdax = pos({ positionId: '7', exchangeCode: 'EUREX', contractCode: 'FDAX', contractExpiry: '202604', net: 2 });
    const matched = marginAccount([fdax], USD);
    expect(matched.closestMatches).toEqual([{ position_id: '7', engine: 'validation', exception: 'Applied closest matching expiry on position EUREX | FDAX | FUT | 202604 | 0', matched_expiry: '202603' }]);
    expect(matched.initialMargin).toBe(86400);
    const refused = marginAccount([fdax], { ...USD, useClosestMatch: false });
    expect(refused.exceptions).toEqual([{ position_id: '7', engine: 'validation', exception: 'Invalid `expiry` on position EUREX | FDAX | FUT | 202604 | 0' }]);
    expect(refused.marginedPositions).toBe(0);
  });

  it('should refuse an option without a usable strike and a futures type on an option contract', () => {
    const m = marginAccount([pos({ positionId: 'a', contractCode: 'LO', contractType: 'CALL', contractStrike: '' }), pos({ positionId: 'b', contractCode: 'LO' })], USD);
    expect(m.exceptions.map((e) => e.exception)).toEqual(['Invalid `strike` on position NYMEX | LO | CALL | 202612 | 0', 'Unknown contract on position NYMEX | LO | FUT | 202612 | 0']);
    expect(m.marginedPositions).toBe(0);
  });
});
