export * from './table';
export * from './vectors';
