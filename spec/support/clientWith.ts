import type { C9Client } from '../../src/http/client';

const unexpected = (): never => {
  throw new Error('unexpected call');
};

/**
 * A C9Client whose only working methods are the ones a spec gives; any other call throws,
 * so a spec notices when the code under test reaches an endpoint it should not.
 */
export function clientWith(methods: Partial<Omit<C9Client, 'endpoint'>>): C9Client {
  return {
    endpoint: 'http://127.0.0.1:1',
    submitBatch: unexpected,
    getBatchStatus: unexpected,
    getAccountResults: unexpected,
    calculate: unexpected,
    getResults: unexpected,
    healthcheck: unexpected,
    ...methods,
  };
}
