/**
 * c9-batch-rx: the public API. Everything a user needs is exported here by name, grouped
 * by layer; anything not listed is internal and may change without notice. The emulator
 * is also reachable on its own as `c9-batch-rx/emulator`.
 *
 * spec/package/index.spec.ts pins the list of runtime names, so a new export is a decision,
 * not an accident.
 */

// Client & transport: one client per endpoint and key; every method is a cold, cancellable Observable.
export { createClient } from './http/client';
export type { ClientOptions, C9Client, BatchStatusResponse, AccountResultsQuery } from './http/client';
export { fetchTransport } from './http/fetchTransport';
export type { FetchTransportOptions } from './http/fetchTransport';
export { nodeHttpTransport } from './http/nodeHttpTransport';
export type { NodeHttpTransportOptions } from './http/nodeHttpTransport';
export type { Transport, TransportRequest, TransportResponse, RequestBody } from './http/transport';
export { isStreamedPortfolio } from './http/serializePayload';
export type { StreamedPortfolioRequest } from './http/serializePayload';
export { DEFAULT_RETRY } from './http/retry';
export type { RetryConfig } from './http/retry';

// Operators: submit → poll → fetch, and the helpers that tune or watch polling.
export { submitBatch } from './operators/submitBatch';
export type { SubmitBatchConfig } from './operators/submitBatch';
export { pollUntilTerminal } from './operators/pollUntilTerminal';
export type { PollConfig, PollIntervalContext, PollIntervalStrategy } from './operators/pollUntilTerminal';
export { fetchBatchResults } from './operators/fetchBatchResults';
export type { FetchBatchResultsConfig } from './operators/fetchBatchResults';
export { selectBatchResults } from './operators/selectBatchResults';
export type { SelectBatchResultsConfig } from './operators/selectBatchResults';
export { adaptivePollInterval } from './operators/adaptivePollInterval';
export type { AdaptivePollIntervalConfig } from './operators/adaptivePollInterval';
export { trackProgress } from './operators/trackProgress';
export type { TrackProgressConfig, ProgressAnomaly, ProgressReport } from './operators/trackProgress';

// Streams: whole flows built from the operators, and the pieces that share work between batches.
export { runBatch } from './streams/runBatch';
export type { RunBatchConfig } from './streams/runBatch';
export { runBatches, resumeBatches } from './streams/runBatches';
export type { ChunkedInput, FollowConfig, ResumeBatchesConfig, RunBatchesConfig, RunBatchesEvent, RunBatchesInput, SplitRecord } from './streams/runBatches';
export { BatchHandleCodec, loadHandles, recordHandles, saveHandles } from './streams/batchHandle';
export type { BatchHandle } from './streams/batchHandle';
export { chunkByAccount } from './streams/chunkByAccount';
export type { ChunkableRequest, ChunkByAccountConfig } from './streams/chunkByAccount';
export { createBatchWatcher } from './streams/batchWatcher';
export type { BatchWatcher } from './streams/batchWatcher';
export { createResultsFetcher } from './streams/resultsFetcher';
export type { ResultsFetcherConfig, ResultsFetcher } from './streams/resultsFetcher';
export { createOverlapGuard } from './streams/overlapGuard';
export type { OverlapGuard, OverlapGuardConfig, OverlapPolicy, GuardedEntry } from './streams/overlapGuard';

// Codecs & types: io-ts codecs double as the types of the values they decode.
export {
  AccountResult,
  AccountResults,
  BatchAccepted,
  BatchStatus,
  BondPosition,
  CrifPosition,
  CurrencyCode,
  CusipPosition,
  EtdPosition,
  FxPosition,
  HealthcheckEntries,
  KNOWN_STATUSES,
  PROCESSING_MODES,
  PortfolioRequest,
  PositionCodec,
  PositionNote,
  SyncResponse,
  accountCodesOf,
  decodeOrThrow,
  isTerminalStatus,
} from './codecs';
export type { KnownBatchStatus, Position, ProcessingMode, TerminalStatus } from './codecs';
export type { AccountException, BatchEvent, BatchResults, BatchRunEvent, SubmittedBatch, TerminalBatch } from './types';

// Errors: one hierarchy under C9Error; none of them ever holds the API key.
export {
  C9Error,
  ApiError,
  BadRequestError,
  AuthenticationError,
  NotFoundError,
  PayloadTooLargeError,
  RequestTimeoutError,
  ResponseTimeoutError,
  RateLimitError,
  InternalServerError,
  makeApiError,
  InvalidResponseError,
  ResponseTooLargeError,
  ConnectionError,
  DecodeError,
  BatchFailedError,
  BatchTimeoutError,
} from './http/errors';
export type { ApiErrorInit } from './http/errors';
export { AccountOverlapError } from './streams/overlapGuard';

// Input: portfolio files (CSV, JSON, NDJSON) to request payloads, with errors that name file and line.
export {
  INPUT_FORMATS,
  InputError,
  MAX_CSV_RECORD_BYTES,
  loadPortfolio,
  openPortfolio,
  readCsvPositions,
  readJsonPortfolio,
  readNdjsonPositions,
  readPositions,
} from './input';
export type { InputErrorLocation, InputFormat, LoadPortfolioOptions, OpenPortfolioOptions, PortfolioFile } from './input';

// Report: what `c9-batch run` prints, as data and as text, and its exit code.
export { NOT_SUBMITTED, buildReport, exitCodeFor, formatReportText, isUnsubmitted } from './streams/report';
export type {
  BatchOutcome,
  BuildReportConfig,
  FormatReportConfig,
  ReportBatch,
  ReportException,
  ReportSplit,
  ReportTopAccount,
  RunOutcome,
  RunReport,
  UnsubmittedOutcome,
} from './streams/report';

// Emulator: a local server of the API for tests and demos (also `c9-batch-rx/emulator`).
export { startEmulator, describeEmulator, resolveEmulatorKeys, ROUTE_NAMES, REPLACED_ERROR, NOTHING_MARGINED_ERROR } from './emulator';
export type {
  EmulatorOptions,
  EmulatorHandle,
  EmulatorStats,
  FaultController,
  RouteName,
  ReplaceResponse,
  DropConnection,
  SlowBody,
  HoldState,
  Json,
  AccountRow,
} from './emulator';
