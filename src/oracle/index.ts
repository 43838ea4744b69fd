export type { Oracle, OracleItem, OracleLabelOptions } from './oracle';
export * from './ground-truth';
export * from './llm';
export * from './human';
