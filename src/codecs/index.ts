export * from './primitives';
export * from './batch';
export * from './results';
export * from './portfolio';
export * from './decode';
