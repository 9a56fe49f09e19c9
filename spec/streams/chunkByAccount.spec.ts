import type { PortfolioRequest, Position } from '../../src/codecs';
import { chunkByAccount, utf8Length } from '../../src/streams/chunkByAccount';

function position(account: string, n: number, extra: Record<string, unknown> = {}): Position {
  return { account_code: account, exchange_code: 'ICE.EU', contract_code: 'B', contract_type: 'FUT', contract_expiry: '202612', net_position: String(n), ...extra };
}

const size = (payload: PortfolioRequest): number => utf8Length(JSON.stringify(payload));
const accounts = (payload: PortfolioRequest): string[] => [...new Set(payload.portfolio.map((p) => p.account_code))];

describe('chunkByAccount', () => {
  const interleaved: PortfolioRequest = {
    currency_code: 'EUR',
    memo: 'kept',
    portfolio: [position('A', 1), position('B', 2), position('A', 3), position('C', 4), position('B', 5), position('D', 6), position('A', 7)],
  };

  it('should keep at most maxAccounts accounts per payload, in first-appearance order', () => {
    const chunks = chunkByAccount(interleaved, { maxAccounts: 2 });

    expect(chunks.map(accounts)).toEqual([['A', 'B'], ['C', 'D']]);
    expect(chunks[0].portfolio.map((p) => p.net_position)).toEqual(['1', '3', '7', '2', '5']);
  });

  it('should copy the top-level options to every payload and share the position objects', () => {
    const chunks = chunkByAccount(interleaved, { maxAccounts: 1 });

    expect(chunks).toHaveLength(4);
    for (const chunk of chunks) expect(chunk).toMatchObject({ currency_code: 'EUR', memo: 'kept' });
    expect(chunks[0].portfolio[0]).toBe(interleaved.portfolio[0]);
  });

  it('should neither lose nor duplicate a position', () => {
    const chunks = chunkByAccount(interleaved, { maxAccounts: 3, maxBytes: 600 });

    const out = chunks.flatMap((c) => c.portfolio);
    expect(out).toHaveLength(interleaved.portfolio.length);
    expect(new Set(out)).toEqual(new Set(interleaved.portfolio));
  });

  it('should keep each payload within maxBytes, measured as the JSON sent', () => {
    const payload: PortfolioRequest = {
      calculation_type: 'margins',
      portfolio: Array.from({ length: 60 }, (_, i) => position(`acct-${i % 17}`, i, { memo: 'ünïcødé €' })),
    };
    const maxBytes = 1200;

    const chunks = chunkByAccount(payload, { maxBytes });

    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(size(chunk)).toBeLessThanOrEqual(maxBytes);
    const seen = chunks.flatMap(accounts);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('should fill a payload exactly up to maxBytes', () => {
    const payload: PortfolioRequest = { portfolio: [position('A', 1), position('B', 2), position('C', 3)] };
    const twoAccounts = size({ portfolio: payload.portfolio.slice(0, 2) });

    expect(chunkByAccount(payload, { maxBytes: twoAccounts }).map(accounts)).toEqual([['A', 'B'], ['C']]);
    expect(chunkByAccount(payload, { maxBytes: twoAccounts - 1 }).map(accounts)).toEqual([['A'], ['B'], ['C']]);
  });

  it('should give an account larger than maxBytes a payload of its own, never splitting it', () => {
    const payload: PortfolioRequest = {
      portfolio: [position('small', 1), ...Array.from({ length: 20 }, (_, i) => position('big', i)), position('small2', 2)],
    };

    const chunks = chunkByAccount(payload, { maxBytes: 300 });

    expect(chunks.map(accounts)).toEqual([['small'], ['big'], ['small2']]);
    expect(chunks[1].portfolio).toHaveLength(20);
  });

  it('should return one payload when no limit is given and none for an empty portfolio', () => {
    expect(chunkByAccount(interleaved)).toHaveLength(1);
    expect(chunkByAccount({ portfolio: [] }, { maxAccounts: 5 })).toEqual([]);
  });

  it('should throw a TypeError for an invalid limit', () => {
    expect(() => chunkByAccount(interleaved, { maxAccounts: 0 })).toThrow(TypeError);
    expect(() => chunkByAccount(interleaved, { maxAccounts: 1.5 })).toThrow(TypeError);
    expect(() => chunkByAccount(interleaved, { maxBytes: -1 })).toThrow(TypeError);
    expect(() => chunkByAccount(interleaved, { maxBytes: Number.NaN })).toThrow(TypeError);
  });
});

describe('utf8Length', () => {
  it('should count bytes as UTF-8 encodes them', () => {
    for (const text of ['', 'abc', 'é', '€', '😀', 'a😀é€\u{10FFFF}', '\uD800x']) {
      expect(utf8Length(text)).toBe(Buffer.byteLength(text, 'utf8'));
    }
  });
});
