export * from './chat';
export * from './json';
export * from './generate';
