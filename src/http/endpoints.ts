/**
 * The one place that knows the API's paths. The client asks this module for a method
 * and a path, so a path typo or an unescaped id can only happen here.
 */

/** A resolved endpoint: what the transport sends and what an error reports. */
export interface EndpointRoute {
  readonly method: 'GET' | 'POST';
  /** The path and query, relative to the API base (`/portfolios/batch/abc`). Never holds the key. */
  readonly path: string;
}

// A batch id goes into a URL path: letters, digits, '-' and '_' cannot escape the segment
// ('/', '..', '?', '#', '%' and spaces can), and 128 characters is plenty for a UUID.
const BATCH_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Checks that `batchId` is safe to put in a URL path, or throws a TypeError naming the problem.
 *
 * Example: `assertBatchId('0f8e…')` returns the id; `assertBatchId('../x')` throws.
 *
 * @param batchId the id returned by `POST /portfolios/batch`
 */
export function assertBatchId(batchId: unknown): string {
  if (typeof batchId !== 'string') throw new TypeError(`batch id must be a string, got ${typeof batchId}`);
  if (batchId.length === 0) throw new TypeError('batch id must not be empty');
  if (batchId.length > 128) throw new TypeError(`batch id is too long (${batchId.length} characters, at most 128)`);
  if (!BATCH_ID.test(batchId)) {
    throw new TypeError('batch id may hold only letters, digits, "-" and "_" (it is put in a URL path)');
  }
  return batchId;
}

/** The API's endpoints, one function each; ids and query values are validated and escaped here. */
export const endpoints = {
  /** `POST /portfolios/batch`: queue a portfolio. */
  submitBatch: (): EndpointRoute => ({ method: 'POST', path: '/portfolios/batch' }),
  /** `GET /portfolios/batch/{id}`: a batch's status; throws TypeError on an unsafe id. */
  batchStatus: (batchId: string): EndpointRoute => ({
    method: 'GET',
    path: `/portfolios/batch/${assertBatchId(batchId)}`,
  }),
  /** `GET /results/accounts`: the caller's live result rows. */
  accountResults: (): EndpointRoute => ({ method: 'GET', path: '/results/accounts' }),
  /** `POST /portfolios`: synchronous calculation. */
  calculate: (): EndpointRoute => ({ method: 'POST', path: '/portfolios' }),
  /** `GET /results?request_id=…`: the result of an async calculation. */
  results: (requestId: string): EndpointRoute => {
    if (typeof requestId !== 'string' || requestId.length === 0) {
      throw new TypeError('request id must be a non-empty string');
    }
    return { method: 'GET', path: `/results?request_id=${encodeURIComponent(requestId)}` };
  },
  /** `GET /healthcheck/analytics-engine`: the engine's status list. */
  healthcheck: (): EndpointRoute => ({ method: 'GET', path: '/healthcheck/analytics-engine' }),
} as const;

/**
 * Checks an API base URL and returns it without trailing slashes, query or fragment,
 * ready for {@link joinUrl}. Throws a TypeError for anything that is not an http(s) URL.
 *
 * Example: `normalizeEndpoint('https://api.example/v1/')` → `'https://api.example/v1'`
 *
 * @param endpoint the base URL as the user gave it
 */
export function normalizeEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new TypeError('endpoint must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`endpoint must use http or https, not ${url.protocol.replace(/:$/, '')}`);
  }
  url.search = '';
  url.hash = '';
  return url.href.replace(/\/+$/, '');
}

/**
 * Appends an endpoint path to the API base, keeping the base's own path and never doubling
 * or dropping a slash.
 *
 * Example: `joinUrl('https://api.example/v1/', '/portfolios')` → `'https://api.example/v1/portfolios'`
 *
 * @param endpoint the API base URL, with or without a base path or trailing slash
 * @param path a path from {@link endpoints}, starting with `/`
 */
export function joinUrl(endpoint: string, path: string): string {
  return `${normalizeEndpoint(endpoint)}/${path.replace(/^\/+/, '')}`;
}

/**
 * The endpoint as it may be shown or compared: normalized, without user info. Two spellings
 * of one server (with and without `user:password@`) are the same place, and a password must
 * not reach a message. A value that is not a URL is returned as it is.
 *
 * Example: `endpointWithoutUserInfo('https://svc:pw@api.example/')` → `'https://api.example'`
 *
 * @param endpoint a base URL
 */
export function endpointWithoutUserInfo(endpoint: string): string {
  try {
    const url = new URL(normalizeEndpoint(endpoint));
    url.username = '';
    url.password = '';
    return url.href.replace(/\/+$/, '');
  } catch {
    return endpoint;
  }
}
