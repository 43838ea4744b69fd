export type { Oracle, OracleItem, OracleLabelOptions } from './oracle';
export * from './ground-truth';
