/**
 * Read a TF.js graph model (`model.json` + binary weight shards) into plain typed data: the
 * GraphDef nodes as TF.js serialises them and every constant tensor's values.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** A TensorFlow `AttrValue` as TF.js's model.json writes it (protobuf JSON). */
export interface TfAttrValue {
  i?: string | number;
  f?: number;
  b?: boolean;
  s?: string | number[];
  type?: number | string;
  shape?: { dim?: { size?: string | number }[]; unknownRank?: boolean };
  list?: { i?: (string | number)[]; s?: (string | number[])[]; f?: number[]; type?: (number | string)[] };
  tensor?: {
    dtype?: number | string;
    tensorShape?: { dim?: { size?: string | number }[] };
  };
}

/** A GraphDef node. */
export interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttrValue>;
}

/** A TensorFlow dtype that the converter handles. */
export type TfDType = 'float32' | 'int32' | 'int64' | 'bool';

/** Values of a constant tensor, row-major. */
export interface TfConstant {
  dtype: TfDType;
  shape: number[];
  /** float32 values, int32 values, or bools as 0/1 bytes. */
  values: Float32Array | Int32Array | Uint8Array;
}

/** A loaded graph model. */
export interface TfGraphModel {
  nodes: TfNode[];
  /** Constant tensors by node name (weights and small Const nodes alike). */
  constants: Map<string, TfConstant>;
}

interface WeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

interface ModelJson {
  format?: string;
  modelTopology: { node: TfNode[]; library?: { function?: unknown[] } };
  weightsManifest: { paths: string[]; weights: WeightEntry[] }[];
}

const DTYPE_ENUM: Record<string, TfDType> = {
  '1': 'float32',
  DT_FLOAT: 'float32',
  '3': 'int32',
  DT_INT32: 'int32',
  '9': 'int64',
  DT_INT64: 'int64',
  '10': 'bool',
  DT_BOOL: 'bool',
};

const MANIFEST_DTYPES: Record<string, TfDType> = { float32: 'float32', int32: 'int32', bool: 'bool' };

/** Map a GraphDef dtype (enum number or `DT_*` name) to a {@link TfDType}. */
export function tfDType(value: number | string | undefined, where: string): TfDType {
  const d = value === undefined ? undefined : DTYPE_ENUM[String(value)];
  if (!d) throw new Error(`${where}: unsupported TensorFlow dtype ${String(value)}`);
  return d;
}

/** Load `model.json` and its shards from disk. */
export async function loadTfGraphModel(modelJsonPath: string): Promise<TfGraphModel> {
  const json = JSON.parse(await readFile(modelJsonPath, 'utf8')) as ModelJson;
  if (!json.modelTopology || !Array.isArray(json.modelTopology.node)) {
    throw new Error(`${modelJsonPath}: not a TF.js graph model (no modelTopology.node)`);
  }
  if (json.modelTopology.library?.function?.length) {
    throw new Error(`${modelJsonPath}: graph functions (control flow) are not supported`);
  }
  const dir = dirname(modelJsonPath);
  const constants = new Map<string, TfConstant>();
  for (const group of json.weightsManifest) {
    const shards = await Promise.all(group.paths.map((p) => readFile(join(dir, p))));
    const buf = Buffer.concat(shards);
    let offset = 0;
    for (const w of group.weights) {
      if (w.quantization) throw new Error(`${w.name}: quantized weights are not supported`);
      const dtype = MANIFEST_DTYPES[w.dtype];
      if (!dtype) throw new Error(`${w.name}: unsupported weight dtype ${w.dtype}`);
      const count = w.shape.reduce((a, b) => a * b, 1);
      const bytes = dtype === 'bool' ? count : count * 4;
      if (offset + bytes > buf.length) throw new Error(`${w.name}: weight shards are truncated`);
      const slice = new Uint8Array(bytes);
      slice.set(buf.subarray(offset, offset + bytes));
      const values =
        dtype === 'float32'
          ? new Float32Array(slice.buffer)
          : dtype === 'int32'
            ? new Int32Array(slice.buffer)
            : slice;
      constants.set(w.name, { dtype, shape: w.shape.slice(), values });
      offset += bytes;
    }
  }
  return { nodes: json.modelTopology.node, constants };
}
