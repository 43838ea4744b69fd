/**
 * The part of the ONNX protobuf schema (`onnx/onnx.proto`, Apache-2.0) that the TF-graph
 * converter writes, and a typed builder that serialises a model with `protobufjs`.
 *
 * Field numbers are copied from onnx.proto (IR version 8); only the fields used here are declared,
 * which is valid protobuf: readers ignore nothing because nothing else is written.
 */
import * as protobuf from 'protobufjs';

const ONNX_PROTO_SUBSET = `
syntax = "proto3";
package onnx;
message AttributeProto {
  string name = 1;
  float f = 2;
  int64 i = 3;
  bytes s = 4;
  TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  int32 type = 20;
}
message ValueInfoProto {
  string name = 1;
  TypeProto type = 2;
}
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  repeated AttributeProto attribute = 5;
  string domain = 7;
}
message ModelProto {
  int64 ir_version = 1;
  string producer_name = 2;
  string producer_version = 3;
  string doc_string = 6;
  GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
}
message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}
message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  string name = 8;
  bytes raw_data = 9;
}
message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
  }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor {
    int32 elem_type = 1;
    TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
}
message OperatorSetIdProto {
  string domain = 1;
  int64 version = 2;
}
`;

/** ONNX `TensorProto.DataType` values used by the converter. */
export const OnnxDataType = {
  FLOAT: 1,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
} as const;
/** One of {@link OnnxDataType}. */
export type OnnxDataType = (typeof OnnxDataType)[keyof typeof OnnxDataType];

/** ONNX `AttributeProto.AttributeType` values. */
const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

/** A constant tensor (initializer or `value` attribute), stored little-endian in `raw`. */
export interface OnnxTensor {
  name: string;
  dataType: OnnxDataType;
  dims: readonly number[];
  raw: Uint8Array;
}

/** A node attribute. */
export type OnnxAttribute =
  | { name: string; kind: 'int'; value: number }
  | { name: string; kind: 'ints'; value: readonly number[] }
  | { name: string; kind: 'float'; value: number }
  | { name: string; kind: 'string'; value: string }
  | { name: string; kind: 'tensor'; value: OnnxTensor };

/** A graph node. */
export interface OnnxNode {
  opType: string;
  name: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes: readonly OnnxAttribute[];
}

/**
 * A graph input or output: element type and shape (a string is a symbolic dimension;
 * no shape means unknown rank).
 */
export interface OnnxValueInfo {
  name: string;
  dataType: OnnxDataType;
  shape?: readonly (number | string)[];
}

/** A whole single-graph model in the default ONNX domain. */
export interface OnnxModel {
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  docString: string;
  graphName: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxTensor[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
}

let root: protobuf.Root | undefined;
function modelType(): protobuf.Type {
  root ??= protobuf.parse(ONNX_PROTO_SUBSET, { keepCase: true }).root;
  return root.lookupType('onnx.ModelProto');
}

function tensorMessage(t: OnnxTensor): Record<string, unknown> {
  return { dims: t.dims.slice(), data_type: t.dataType, name: t.name, raw_data: t.raw };
}

function attributeMessage(a: OnnxAttribute): Record<string, unknown> {
  switch (a.kind) {
    case 'int':
      return { name: a.name, type: AttributeType.INT, i: a.value };
    case 'ints':
      return { name: a.name, type: AttributeType.INTS, ints: a.value.slice() };
    case 'float':
      return { name: a.name, type: AttributeType.FLOAT, f: a.value };
    case 'string':
      return { name: a.name, type: AttributeType.STRING, s: Buffer.from(a.value, 'utf8') };
    case 'tensor':
      return { name: a.name, type: AttributeType.TENSOR, t: tensorMessage(a.value) };
  }
}

function valueInfoMessage(v: OnnxValueInfo): Record<string, unknown> {
  return {
    name: v.name,
    type: {
      tensor_type: {
        elem_type: v.dataType,
        ...(v.shape && {
          shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
        }),
      },
    },
  };
}

/** Serialise a model to ONNX protobuf bytes (IR version 8). */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const type = modelType();
  const message = {
    ir_version: 8,
    producer_name: model.producerName,
    producer_version: model.producerVersion,
    doc_string: model.docString,
    opset_import: [{ domain: '', version: model.opsetVersion }],
    graph: {
      name: model.graphName,
      node: model.nodes.map((n) => ({
        input: n.inputs.slice(),
        output: n.outputs.slice(),
        name: n.name,
        op_type: n.opType,
        attribute: n.attributes.map(attributeMessage),
      })),
      initializer: model.initializers.map(tensorMessage),
      input: model.inputs.map(valueInfoMessage),
      output: model.outputs.map(valueInfoMessage),
    },
  };
  const err = type.verify(message);
  if (err) throw new Error(`internal error: invalid ONNX model message: ${err}`);
  return type.encode(type.fromObject(message)).finish();
}
