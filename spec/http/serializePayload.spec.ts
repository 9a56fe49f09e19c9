import type { PortfolioRequest, Position } from '../../src/codecs';
import { groupedPositions, POSITION_GROUPS, serializePayload, serializeStreamedPayload, type GroupedPositions, type StreamedPortfolioRequest } from '../../src/http/serializePayload';

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

describe('serializeStreamedPayload', () => {
  const options = { currency_code: 'USD' };

  function request(read: () => AsyncIterable<Position>): StreamedPortfolioRequest {
    return { options, accountCodes: ['ACC0'], positions: read };
  }

  it('should take the positions a group at a time when their iterable offers groups, writing the same text', async () => {
    const portfolio = positions(7);
    const offered = groupedPositions(async function* groups() {
      yield portfolio.slice(0, 3);
      yield portfolio.slice(3, 4);
      yield portfolio.slice(4);
    });
    // Read one at a time, the groups would not be used.
    const groupsOnly: GroupedPositions = {
      [POSITION_GROUPS]: () => offered[POSITION_GROUPS](),
      [Symbol.asyncIterator]: () => {
        throw new Error('read one position at a time');
      },
    };

    const chunks = await collect(serializeStreamedPayload(request(() => groupsOnly), { chunkPositions: 2 }));

    expect(chunks.join('')).toBe(JSON.stringify({ portfolio, ...options }));
    expect(chunks.map((c) => (c.match(/account_code/g) ?? []).length)).toEqual([2, 2, 2, 1]);
  });

  it('should read an iterable without groups a position at a time, writing the same text', async () => {
    const portfolio = positions(5);
    const plain = async function* plain(): AsyncGenerator<Position> {
      yield* portfolio;
    };

    const chunks = await collect(serializeStreamedPayload(request(plain), { chunkPositions: 2 }));

    expect(chunks.join('')).toBe(JSON.stringify({ portfolio, ...options }));
  });

  it('should give the positions of a grouped iterable one at a time to a plain for await', async () => {
    const portfolio = positions(4);
    const seen: Position[] = [];
    for await (const position of groupedPositions(async function* groups() {
      yield portfolio.slice(0, 1);
      yield portfolio.slice(1);
    }))
      seen.push(position);

    expect(seen).toEqual(portfolio);
  });
});
