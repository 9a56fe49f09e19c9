export { InputError, type InputErrorLocation } from './errors';
export { loadPortfolio, readPositions, INPUT_FORMATS, type InputFormat, type LoadPortfolioOptions } from './loadPortfolio';
export { readCsvPositions, MAX_CSV_RECORD_BYTES } from './csv';
export { readJsonPortfolio } from './json';
export { readNdjsonPositions } from './ndjson';
export { openPortfolio, type OpenPortfolioOptions, type PortfolioFile } from './streamPortfolio';
