/**
 * The emulator's deterministic margin model (SPAN-like), usable on its own.
 */
export * from './account';
export * from './black76';
export * from './contracts';
export * from './expiry';
export * from './futures';
export * from './fx';
export * from './options';
