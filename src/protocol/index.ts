export * from './constants.js';
export * from './address.js';
export * from './frames.js';
