import * as api from '../../src';
import * as emulator from '../../src/emulator';

/**
 * The public runtime surface, sorted. A name added to or dropped from src/index.ts must be
 * added or dropped here too: an export is a promise to users, never an accident.
 */
const PUBLIC_RUNTIME_NAMES = [
  'AccountOverlapError',
  'AccountResult',
  'AccountResults',
  'ApiError',
  'AuthenticationError',
  'BadRequestError',
  'BatchAccepted',
  'BatchFailedError',
  'BatchHandleCodec',
  'BatchStatus',
  'BatchTimeoutError',
  'BondPosition',
  'C9Error',
  'ConnectionError',
  'CrifPosition',
  'CurrencyCode',
  'CusipPosition',
  'DEFAULT_RETRY',
  'DecodeError',
  'EtdPosition',
  'FxPosition',
  'HealthcheckEntries',
  'INPUT_FORMATS',
  'InputError',
  'InternalServerError',
  'InvalidResponseError',
  'KNOWN_STATUSES',
  'MAX_CSV_RECORD_BYTES',
  'NOTHING_MARGINED_ERROR',
  'NOT_SUBMITTED',
  'NotFoundError',
  'PROCESSING_MODES',
  'PayloadTooLargeError',
  'PortfolioRequest',
  'PositionCodec',
  'PositionNote',
  'REPLACED_ERROR',
  'ROUTE_NAMES',
  'RateLimitError',
  'RequestTimeoutError',
  'ResponseTimeoutError',
  'ResponseTooLargeError',
  'SyncResponse',
  'accountCodesOf',
  'adaptivePollInterval',
  'buildReport',
  'chunkByAccount',
  'createBatchWatcher',
  'createClient',
  'createOverlapGuard',
  'createResultsFetcher',
  'decodeOrThrow',
  'describeEmulator',
  'exitCodeFor',
  'fetchBatchResults',
  'fetchTransport',
  'formatReportText',
  'isStreamedPortfolio',
  'isTerminalStatus',
  'isUnsubmitted',
  'loadHandles',
  'loadPortfolio',
  'makeApiError',
  'nodeHttpTransport',
  'openPortfolio',
  'pollUntilTerminal',
  'readCsvPositions',
  'readJsonPortfolio',
  'readNdjsonPositions',
  'readPositions',
  'recordHandles',
  'resolveEmulatorKeys',
  'resumeBatches',
  'runBatch',
  'runBatches',
  'saveHandles',
  'selectBatchResults',
  'startEmulator',
  'submitBatch',
  'trackProgress',
];

const ERROR_CLASSES = [
  'AccountOverlapError',
  'ApiError',
  'AuthenticationError',
  'BadRequestError',
  'BatchFailedError',
  'BatchTimeoutError',
  'ConnectionError',
  'DecodeError',
  'InputError',
  'InternalServerError',
  'InvalidResponseError',
  'NotFoundError',
  'PayloadTooLargeError',
  'RateLimitError',
  'RequestTimeoutError',
  'ResponseTimeoutError',
  'ResponseTooLargeError',
] as const;

describe('index', () => {
  const exported = api as unknown as Record<string, unknown>;

  it('should export exactly the public runtime names', () => {
    expect(Object.keys(exported).sort()).toEqual([...PUBLIC_RUNTIME_NAMES].sort());
  });

  it('should keep the pinned list sorted and free of duplicates', () => {
    const sorted = [...new Set(PUBLIC_RUNTIME_NAMES)].sort();
    expect(PUBLIC_RUNTIME_NAMES).toEqual(sorted);
  });

  it('should export no name whose value is undefined', () => {
    const undefinedNames = Object.keys(exported).filter((name) => exported[name] === undefined);
    expect(undefinedNames).toEqual([]);
  });

  it('should export every error class as a subclass of C9Error', () => {
    for (const name of ERROR_CLASSES) {
      const ctor = exported[name];
      expect(typeof ctor).toBe('function');
      expect((ctor as { prototype: unknown }).prototype instanceof api.C9Error).toBe(true);
    }
  });

  it('should re-export the emulator entry point unchanged', () => {
    expect(api.startEmulator).toBe(emulator.startEmulator);
    expect(api.describeEmulator).toBe(emulator.describeEmulator);
    expect(api.PROCESSING_MODES).toEqual(emulator.PROCESSING_MODES);
  });
});
