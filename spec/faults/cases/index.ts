/**
 * Every row of the fault matrix, grouped by kind, in the order the table prints them.
 */
import type { FaultCase } from '../support/matrix';
import { batchStateCases } from './batchStates';
import { brokenBodyCases } from './brokenBodies';
import { cancellationCases } from './cancellation';
import { cliCases } from './cli';
import { connectionCases } from './connections';
import { resultCases } from './results';
import { serverErrorCases } from './serverErrors';
import { throttlingCases } from './throttling';

export const ALL_CASES: readonly FaultCase[] = [
  ...serverErrorCases,
  ...brokenBodyCases,
  ...connectionCases,
  ...throttlingCases,
  ...batchStateCases,
  ...resultCases,
  ...cancellationCases,
  ...cliCases,
];
