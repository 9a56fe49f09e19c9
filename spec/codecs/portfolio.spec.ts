import { decodeOrThrow } from '../../src/codecs/decode';
import { PortfolioRequest, PositionCodec, accountCodesOf } from '../../src/codecs/portfolio';
import type { Position } from '../../src/codecs/portfolio';
import { DecodeError } from '../../src/http/errors';

const etd = (account: string, extra: Record<string, unknown> = {}): Position => ({
  account_code: account,
  exchange_code: 'CME',
  contract_code: 'ES',
  contract_type: 'F',
  contract_expiry: '20251200',
  net_position: '-5',
  ...extra,
});

describe('PortfolioRequest', () => {
  it('should return the caller’s own object, unknown fields and string numbers untouched', () => {
    const payload = {
      portfolio: [etd('A', { custom_tag: { deep: [1] } }), { account_code: 'B', currency_pair: 'EURUSD', amount: '1000000' }],
      currency_code: 'EUR',
      vendor_symbology: 'bloomberg',
      future_option: { x: 1 },
    };
    const snapshot = JSON.parse(JSON.stringify(payload)) as unknown;
    const decoded = decodeOrThrow(PortfolioRequest, payload, 'portfolio request');
    expect(decoded).toBe(payload);
    expect(decoded.portfolio[0]).toBe(payload.portfolio[0]);
    expect(decoded).toEqual(snapshot);
  });

  it('should name the missing field of the shape the position claims to be', () => {
    const payload = { portfolio: [etd('A'), { account_code: 'B', currency_pair: 'EURUSD' }] };
    let caught: unknown;
    try {
      decodeOrThrow(PortfolioRequest, payload, 'portfolio request');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DecodeError);
    expect((caught as DecodeError).paths).toEqual(['portfolio[1].amount']);
  });

  it('should refuse a position that is not an object', () => {
    expect(PositionCodec.is('x')).toBe(false);
    expect(() => decodeOrThrow(PortfolioRequest, { portfolio: [etd('A'), 42] }, 'portfolio request')).toThrow(/portfolio\[1\]/);
  });
});

describe('accountCodesOf', () => {
  it('should list distinct account codes in first-seen order', () => {
    expect(accountCodesOf([etd('B'), etd('A'), etd('B'), etd('C')])).toEqual(['B', 'A', 'C']);
  });
});
