import { resolveEmulatorKeys } from '../../src/emulator';
import { findByKey, hashKey, SlidingWindow, bearerToken } from '../../src/emulator/auth';

describe('resolveEmulatorKeys', () => {
  it('should prefer the given keys, then C9_API_SECRET, then a generated demo key', () => {
    expect(resolveEmulatorKeys({ apiKeys: ['sk-x'], env: { C9_API_SECRET: 'sk-env' } })).toEqual(['sk-x']);
    expect(resolveEmulatorKeys({ apiKeys: [], env: { C9_API_SECRET: ' sk-a , sk-b,,sk-a ' } })).toEqual(['sk-a', 'sk-b']);
    const [demo, ...rest] = resolveEmulatorKeys({ env: {} });
    expect(demo).toMatch(/^sk-demo-[0-9a-f]{24}$/);
    expect(rest).toEqual([]);
    expect(resolveEmulatorKeys({ env: {} })[0]).not.toBe(demo);
  });

  it('should refuse a key with whitespace inside', () => {
    expect(() => resolveEmulatorKeys({ apiKeys: ['sk-a b'] })).toThrow(TypeError);
  });
});

describe('findByKey', () => {
  it('should find the user of a key and nobody for another string', () => {
    const users = ['sk-1', 'sk-2'].map((key) => ({ key, keyHash: hashKey(key) }));
    expect(findByKey(users, 'sk-2')?.key).toBe('sk-2');
    expect(findByKey(users, 'sk-')).toBeUndefined();
    expect(findByKey(users, 'sk-22')).toBeUndefined();
  });
});

describe('bearerToken', () => {
  it('should read only the Bearer scheme', () => {
    expect(bearerToken('Bearer sk-1')).toBe('sk-1');
    expect(bearerToken('bearer  sk-1 ')).toBe('sk-1');
    expect(bearerToken('Basic sk-1')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('SlidingWindow', () => {
  it('should admit at most the limit in any window and tell how long to wait', () => {
    const w = new SlidingWindow(2, 1000);
    expect(w.tryAcquire(0)).toBe(0);
    expect(w.tryAcquire(400)).toBe(0);
    expect(w.tryAcquire(900)).toBe(100);
    expect(w.tryAcquire(1000)).toBe(0);
    expect(w.tryAcquire(1100)).toBe(300);
    expect(w.tryAcquire(1400)).toBe(0);
  });
});
