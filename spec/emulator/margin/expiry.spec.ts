import { nearestListed, parseExpiry } from '../../../src/emulator/margin/expiry';

describe('parseExpiry', () => {
  it('should read every expiry form real files carry', () => {
    expect(parseExpiry('202612')).toBe(202612);
    expect(parseExpiry('20261215')).toBe(202612);
    expect(parseExpiry('20261200')).toBe(202612);
    expect(parseExpiry('DEC-26')).toBe(202612);
    expect(parseExpiry('Dec-26')).toBe(202612);
    expect(parseExpiry(' jan-27 ')).toBe(202701);
  });

  it('should refuse what is no contract month', () => {
    for (const bad of ['', '2026', '202613', '20261299', 'DEX-26', '12/2026', 'abc']) expect(parseExpiry(bad)).toBeUndefined();
  });
});

describe('nearestListed', () => {
  it('should pick the nearest listed month, the earlier one on a tie', () => {
    const quarterly = [202603, 202606, 202609, 202612];
    expect(nearestListed(202604, quarterly)).toBe(202603);
    expect(nearestListed(202605, quarterly)).toBe(202606);
    expect(nearestListed(202701, quarterly)).toBe(202612);
    expect(nearestListed(202511, quarterly)).toBe(202603);
  });
});
