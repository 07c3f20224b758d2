/** Native histograms: one home for their math (see types.ts for the model and its rules). */
export * from './buckets';
export * from './errors';
export * from './intervals';
export * from './merge';
export * from './observe';
export * from './spans';
export * from './types';
export * from './validate';
