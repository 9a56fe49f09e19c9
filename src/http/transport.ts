/**
 * The transport seam. The client speaks to the API only through a {@link Transport}: a
 * function from a request to an Observable of one response. Tests inject `cold(...)`
 * observables; production uses {@link fetchTransport} (cross-fetch).
 */
import type { Observable } from 'rxjs';

/** A request body: a string, or a factory of chunks so large payloads are written incrementally (and can be re-created for a retry). */
export type RequestBody = string | (() => AsyncIterable<string | Uint8Array>);

/** One HTTP request, fully resolved (absolute URL, all headers). */
export interface TransportRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: RequestBody;
}

/** One HTTP response with its body read as text. Header names are lower-case. */
export interface TransportResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * Sends one request per subscription and emits one response, then completes.
 * Unsubscribing aborts the request. Network failures error with a `ConnectionError`.
 */
export type Transport = (request: TransportRequest) => Observable<TransportResponse>;
