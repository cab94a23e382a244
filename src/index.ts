'use client';
export * from './react/index.js';
export * from './components/index.js';
export * from './client/index.js';
