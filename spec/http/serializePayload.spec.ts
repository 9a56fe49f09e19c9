import type { PortfolioRequest, Position } from '../../src/codecs';
import { serializePayload } from '../../src/http/serializePayload';

async function collect(factory: () => AsyncIterable<string>): Promise<string[]> {
  const chunks: string[] = [];
  for await (const chunk of factory()) chunks.push(chunk);
  return chunks;
}

function positions(n: number): Position[] {
  return Array.from({ length: n }, (_, i) => ({
    account_code: `ACC${i % 7}`,
    exchange_code: 'CME',
    contract_code: 'ES',
    contract_type: 'F',
    contract_expiry: '202512',
    net_position: i % 2 === 0 ? String(i) : -i,
    memo: 'quote " backslash \\ unicode é \u2028',
  }));
}

describe('serializePayload', () => {
  it('should write JSON that parses to the same value as JSON.stringify', async () => {
    const payload: PortfolioRequest = {
      calculation_type: 'margins',
      portfolio: positions(2503),
      currency_code: 'EUR',
      custom: { nested: [1, null, 'x'] },
    };
    const joined = (await collect(serializePayload(payload, { chunkPositions: 1000 }))).join('');
    expect(JSON.parse(joined)).toEqual(JSON.parse(JSON.stringify(payload)));
    expect(joined).toBe(JSON.stringify(payload));
  });

  it('should keep the top-level keys in their original order', async () => {
    const payload: PortfolioRequest = { memo: 'm', portfolio: positions(3), is_live: false, currency_code: 'USD' };
    const joined = (await collect(serializePayload(payload))).join('');
    expect(Object.keys(JSON.parse(joined) as object)).toEqual(['memo', 'portfolio', 'is_live', 'currency_code']);
  });

  it('should emit the positions in groups, never as one string', async () => {
    const payload: PortfolioRequest = { portfolio: positions(25) };
    const chunks = await collect(serializePayload(payload, { chunkPositions: 10 }));
    const groups = chunks.filter((chunk) => chunk.includes('account_code'));
    expect(groups).toHaveLength(3);
    expect(groups.map((g) => (g.match(/account_code/g) ?? []).length)).toEqual([10, 10, 5]);
  });

  it('should leave out fields JSON.stringify leaves out, and render odd array members as null', async () => {
    const payload = { request_id: undefined, portfolio: [positions(1)[0], undefined], fn: () => 1, at: new Date(0) };
    const joined = (await collect(serializePayload(payload as unknown as PortfolioRequest))).join('');
    expect(joined).toBe(JSON.stringify(payload));
  });

  it('should handle an empty portfolio', async () => {
    const payload: PortfolioRequest = { portfolio: [] };
    expect((await collect(serializePayload(payload))).join('')).toBe('{"portfolio":[]}');
  });

  it('should start over at each call of the factory, so a retry can resend', async () => {
    const factory = serializePayload({ portfolio: positions(5) }, { chunkPositions: 2 });
    expect((await collect(factory)).join('')).toBe((await collect(factory)).join(''));
  });

  it('should refuse an invalid chunk size when made', () => {
    for (const chunkPositions of [0, -1, 1.5, Number.NaN]) {
      expect(() => serializePayload({ portfolio: [] }, { chunkPositions })).toThrow(TypeError);
    }
  });
});
