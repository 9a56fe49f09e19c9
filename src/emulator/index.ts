/**
 * The embedded emulator of the batch margin API (server side), for tests, demos and
 * `c9-batch serve`. See server.ts for the behaviour and margin/ for the model.
 */
export { startEmulator, describeEmulator, type EmulatorOptions, type EmulatorHandle, type EmulatorStats } from './server';
export { resolveEmulatorKeys } from './auth';
export type { FaultController, RouteName, ReplaceResponse, DropConnection, SlowBody, HoldState, Json } from './faults';
export { ROUTE_NAMES } from './faults';
export { PROCESSING_MODES, REPLACED_ERROR, NOTHING_MARGINED_ERROR, type ProcessingMode } from './batches';
export type { AccountRow } from './rows';
