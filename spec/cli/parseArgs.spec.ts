import { InvalidArgumentError } from 'commander';
import { collect, parseDuration, parseNonNegative, parsePort, parsePositiveInt, parsePositiveNumber } from '../../src/cli/parseArgs';

describe('parseDuration', () => {
  it('should read plain milliseconds and each unit', () => {
    expect(parseDuration('500')).toBe(500);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('2s')).toBe(2000);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('5M')).toBe(300_000);
    expect(parseDuration('1h')).toBe(3_600_000);
  });

  it('should refuse words, negative and zero durations', () => {
    for (const bad of ['', 'soon', '-1s', '0', '0s', '2 days', '1e3']) expect(() => parseDuration(bad)).toThrow(InvalidArgumentError);
  });
});

describe('parsePositiveInt', () => {
  it('should accept whole numbers from 1 and refuse the rest', () => {
    expect(parsePositiveInt('1')).toBe(1);
    expect(parsePositiveInt('250')).toBe(250);
    for (const bad of ['0', '-2', '1.5', 'four', '', '99999999999999999999']) expect(() => parsePositiveInt(bad)).toThrow(InvalidArgumentError);
  });
});

describe('parsePort', () => {
  it('should accept 0 to 65535', () => {
    expect(parsePort('0')).toBe(0);
    expect(parsePort('8080')).toBe(8080);
    expect(() => parsePort('65536')).toThrow(InvalidArgumentError);
    expect(() => parsePort('http')).toThrow(InvalidArgumentError);
  });
});

describe('parseNonNegative', () => {
  it('should accept numbers from 0', () => {
    expect(parseNonNegative('0')).toBe(0);
    expect(parseNonNegative('2.5')).toBe(2.5);
    for (const bad of ['-1', '', 'x', 'Infinity']) expect(() => parseNonNegative(bad)).toThrow(InvalidArgumentError);
  });
});

describe('parsePositiveNumber', () => {
  it('should accept numbers above 0, fractions included, and refuse the rest', () => {
    expect(parsePositiveNumber('0.5')).toBe(0.5);
    expect(parsePositiveNumber('50')).toBe(50);
    for (const bad of ['', ' ', '0', '-1', 'abc', 'Infinity', 'NaN']) expect(() => parsePositiveNumber(bad)).toThrow(InvalidArgumentError);
  });
});

describe('collect', () => {
  it('should gather repeated values in order', () => {
    expect(collect('b', collect('a'))).toEqual(['a', 'b']);
  });
});
