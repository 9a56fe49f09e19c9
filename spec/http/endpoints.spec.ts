import { assertBatchId, endpointWithoutUserInfo, endpoints, joinUrl, normalizeEndpoint } from '../../src/http/endpoints';

describe('endpoints', () => {
  it('should give each endpoint its method and path', () => {
    expect(endpoints.submitBatch()).toEqual({ method: 'POST', path: '/portfolios/batch' });
    expect(endpoints.batchStatus('0f8e2c1a-7b3d-4e5f-9a0b-1c2d3e4f5a6b')).toEqual({
      method: 'GET',
      path: '/portfolios/batch/0f8e2c1a-7b3d-4e5f-9a0b-1c2d3e4f5a6b',
    });
    expect(endpoints.accountResults()).toEqual({ method: 'GET', path: '/results/accounts' });
    expect(endpoints.calculate()).toEqual({ method: 'POST', path: '/portfolios' });
    expect(endpoints.results('abc')).toEqual({ method: 'GET', path: '/results?request_id=abc' });
    expect(endpoints.healthcheck()).toEqual({ method: 'GET', path: '/healthcheck/analytics-engine' });
  });

  it('should URL-encode query values', () => {
    expect(endpoints.results('a b&c=d/é').path).toBe('/results?request_id=a%20b%26c%3Dd%2F%C3%A9');
  });

  it('should refuse a request id that is empty', () => {
    expect(() => endpoints.results('')).toThrow(TypeError);
  });
});

describe('assertBatchId', () => {
  it('should accept UUID-like tokens of 1 to 128 characters', () => {
    for (const id of ['a', 'batch_1', '0F8E2C1A-7B3D', 'x'.repeat(128)]) expect(assertBatchId(id)).toBe(id);
  });

  it('should throw a TypeError naming the problem for anything else', () => {
    expect(() => assertBatchId('')).toThrow(/empty/);
    expect(() => assertBatchId('x'.repeat(129))).toThrow(/too long/);
    for (const id of ['../secret', 'a/b', 'a?b', 'a#b', 'a%2Fb', 'a b', 'a.b', 'é']) {
      expect(() => assertBatchId(id)).toThrow(TypeError);
    }
    expect(() => assertBatchId(42)).toThrow(/string/);
    expect(() => endpoints.batchStatus('../x')).toThrow(TypeError);
  });
});

describe('joinUrl', () => {
  it('should join with exactly one slash whatever the endpoint ends with', () => {
    expect(joinUrl('https://api.example', '/portfolios')).toBe('https://api.example/portfolios');
    expect(joinUrl('https://api.example/', '/portfolios')).toBe('https://api.example/portfolios');
    expect(joinUrl('https://api.example//', 'portfolios')).toBe('https://api.example/portfolios');
  });

  it('should keep a base path and a port', () => {
    expect(joinUrl('http://127.0.0.1:8080/api/v1', '/results?request_id=x')).toBe('http://127.0.0.1:8080/api/v1/results?request_id=x');
    expect(joinUrl('http://127.0.0.1:8080/api/v1/', '/results/accounts')).toBe('http://127.0.0.1:8080/api/v1/results/accounts');
  });
});

describe('normalizeEndpoint', () => {
  it('should drop a query and a fragment', () => {
    expect(normalizeEndpoint('https://api.example/base/?x=1#top')).toBe('https://api.example/base');
  });

  it('should refuse what is not an absolute http(s) URL', () => {
    for (const endpoint of ['', 'api.example', '/portfolios', 'ftp://api.example', 'file:///etc/passwd']) {
      expect(() => normalizeEndpoint(endpoint)).toThrow(TypeError);
    }
  });
});

describe('endpointWithoutUserInfo', () => {
  it('should drop user and password and normalize, and leave a value that is not a URL as it is', () => {
    expect(endpointWithoutUserInfo('https://svc:pw@api.example/base/?x=1')).toBe('https://api.example/base');
    expect(endpointWithoutUserInfo('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(endpointWithoutUserInfo('?')).toBe('?');
  });
});
