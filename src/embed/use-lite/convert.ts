/**
 * A small TensorFlow GraphDef → ONNX converter, for exactly the ops that frozen inference graphs
 * like USE-lite use (about forty). Each TF op becomes one or a few ONNX ops (opset 18) with the
 * same semantics; there is no approximation and no fusion (ONNX Runtime fuses at load time).
 *
 * Conventions:
 * - Every TF integer tensor (int32 shapes, indices, ids) becomes int64 in ONNX, because ONNX wants
 *   int64 for shapes, axes and indices; values are identical for graphs whose integers fit int32.
 * - Arguments that ONNX takes as attributes (axes of ExpandDims/Pack/ConcatV2/GatherV2, perm of
 *   Transpose, 1×1 Conv2D kernels) must be Const nodes; anything else raises a clear error.
 * - TF's `ScatterNd` sums duplicate indices: it becomes `ScatterND(reduction='add')` on zeros.
 */
import {
  OnnxDataType,
  type OnnxAttribute,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './onnx-proto';
import { tfDType, type TfAttrValue, type TfConstant, type TfDType, type TfGraphModel, type TfNode } from './tf-graph';

/** The ONNX opset the converter targets. */
export const ONNX_OPSET = 18;

/** Options of {@link convertTfGraph}. */
export interface ConvertOptions {
  /** Recorded in the model's `producer_version`. */
  producerVersion: string;
  /** Recorded in the model's `doc_string`. */
  docString?: string;
  /** Output node names; default: every non-Const node nobody consumes. */
  outputs?: readonly string[];
}

const INT64_MAX = 9223372036854775807n;

/** ONNX element type of a TF dtype (integers widen to int64). */
function onnxType(d: TfDType): OnnxDataType {
  return d === 'float32' ? OnnxDataType.FLOAT : d === 'bool' ? OnnxDataType.BOOL : OnnxDataType.INT64;
}

function int64Raw(values: readonly (number | bigint)[]): Uint8Array {
  const a = new BigInt64Array(values.length);
  values.forEach((v, i) => (a[i] = BigInt(v)));
  return new Uint8Array(a.buffer);
}

function attrInt(a: TfAttrValue | undefined, fallback: number): number {
  return a?.i === undefined ? fallback : Number(a.i);
}

function attrBool(a: TfAttrValue | undefined): boolean {
  return a?.b === true;
}

function attrString(a: TfAttrValue | undefined): string | undefined {
  if (a?.s === undefined) return undefined;
  if (Array.isArray(a.s)) return String.fromCharCode(...a.s);
  return Buffer.from(a.s, 'base64').toString('utf8');
}

function attrInts(a: TfAttrValue | undefined): number[] {
  return (a?.list?.i ?? []).map(Number);
}

/** Split a GraphDef input reference into node name and output index; null for control inputs. */
function parseInput(ref: string): { node: string; index: number } | null {
  if (ref.startsWith('^')) return null;
  const m = /^(.*):(\d+)$/.exec(ref);
  return m ? { node: m[1], index: Number(m[2]) } : { node: ref, index: 0 };
}

function tensorName(node: string, index: number): string {
  return index === 0 ? node : `${node}:${index}`;
}

class Converter {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  readonly inputs: OnnxValueInfo[] = [];
  private readonly materialised = new Set<string>();
  /** Static rank of a tensor, where known. */
  private readonly ranks = new Map<string, number>();
  /** TF dtype of a tensor, where known. */
  private readonly dtypes = new Map<string, TfDType>();
  private counter = 0;

  constructor(private readonly graph: TfGraphModel) {}

  // ---- helpers -------------------------------------------------------------------------------

  private constOf(ref: string): TfConstant | undefined {
    const p = parseInput(ref);
    if (!p || p.index !== 0) return undefined;
    return this.graph.constants.get(p.node);
  }

  /** Integer values of a Const input, or throw naming the node and argument. */
  private constInts(node: TfNode, argIndex: number, what: string): number[] {
    const ref = this.inputRefs(node)[argIndex];
    const c = ref === undefined ? undefined : this.constOf(ref);
    if (!c || (c.dtype !== 'int32' && c.dtype !== 'int64')) {
      throw new Error(`${node.op} ${node.name}: ${what} (input ${argIndex}) must be an integer Const`);
    }
    return Array.from(c.values as Int32Array);
  }

  private inputRefs(node: TfNode): string[] {
    return (node.input ?? []).filter((r) => !r.startsWith('^'));
  }

  /** The ONNX tensor name of input `i` of `node`, materialising Const nodes as initializers. */
  private in(node: TfNode, i: number): string {
    const ref = this.inputRefs(node)[i];
    if (ref === undefined) throw new Error(`${node.op} ${node.name}: missing input ${i}`);
    const p = parseInput(ref);
    if (!p) throw new Error(`${node.op} ${node.name}: input ${i} is a control input`);
    const name = tensorName(p.node, p.index);
    const c = p.index === 0 ? this.graph.constants.get(p.node) : undefined;
    if (c && !this.materialised.has(name)) {
      this.materialised.add(name);
      this.initializers.push(this.constTensor(name, c));
      this.ranks.set(name, c.shape.length);
      this.dtypes.set(name, c.dtype);
    }
    return name;
  }

  private constTensor(name: string, c: TfConstant): OnnxTensor {
    if (c.dtype === 'float32') {
      const v = c.values as Float32Array;
      return { name, dataType: OnnxDataType.FLOAT, dims: c.shape, raw: new Uint8Array(v.buffer, v.byteOffset, v.byteLength) };
    }
    if (c.dtype === 'bool') return { name, dataType: OnnxDataType.BOOL, dims: c.shape, raw: c.values as Uint8Array };
    return { name, dataType: OnnxDataType.INT64, dims: c.shape, raw: int64Raw(Array.from(c.values as Int32Array)) };
  }

  private rank(name: string): number | undefined {
    return this.ranks.get(name);
  }

  private requireRank(node: TfNode, name: string): number {
    const r = this.rank(name);
    if (r === undefined) throw new Error(`${node.op} ${node.name}: the rank of ${name} is not known statically`);
    return r;
  }

  /** A new int64 initializer. */
  private int64(values: readonly (number | bigint)[], scalar = false): string {
    const name = `__onnx_const_${this.counter++}`;
    this.initializers.push({ name, dataType: OnnxDataType.INT64, dims: scalar ? [] : [values.length], raw: int64Raw(values) });
    return name;
  }

  private tmp(node: TfNode): string {
    return `${node.name}/__onnx_${this.counter++}`;
  }

  private emit(opType: string, inputs: string[], outputs: string[], attributes: OnnxAttribute[] = []): void {
    this.nodes.push({ opType, name: `${outputs[0]}/${opType}`, inputs, outputs, attributes });
  }

  private set(out: string, rank: number | undefined, dtype: TfDType | undefined): void {
    if (rank !== undefined) this.ranks.set(out, rank);
    if (dtype !== undefined) this.dtypes.set(out, dtype);
  }

  // ---- conversion ---------------------------------------------------------------------------

  convertNode(node: TfNode): void {
    const a = node.attr ?? {};
    const out = node.name;
    const r0 = (): number | undefined => this.rank(this.in(node, 0));
    const t0 = (): TfDType | undefined => this.dtypes.get(this.in(node, 0));
    const unary = (op: string): void => {
      const x = this.in(node, 0);
      this.emit(op, [x], [out]);
      this.set(out, this.rank(x), this.dtypes.get(x));
    };
    const binary = (op: string, boolOut = false): void => {
      const x = this.in(node, 0);
      const y = this.in(node, 1);
      this.emit(op, [x, y], [out]);
      const rx = this.rank(x);
      const ry = this.rank(y);
      this.set(out, rx === undefined || ry === undefined ? undefined : Math.max(rx, ry), boolOut ? 'bool' : this.dtypes.get(x));
    };
    const reduce = (op: string): void => {
      const x = this.in(node, 0);
      const axes = this.constInts(node, 1, 'reduction axes');
      const keep = attrBool(a.keep_dims);
      // An empty axes list in TF means "reduce nothing"; ONNX would reduce everything.
      if (axes.length === 0) {
        this.emit('Identity', [x], [out]);
      } else {
        this.emit(op, [x, this.int64(axes)], [out], [{ name: 'keepdims', kind: 'int', value: keep ? 1 : 0 }]);
      }
      const r = this.rank(x);
      this.set(out, r === undefined ? undefined : keep ? r : r - new Set(axes.map((v) => (v < 0 ? v + r : v))).size, this.dtypes.get(x));
    };

    switch (node.op) {
      case 'Const':
        if (!this.graph.constants.has(node.name)) throw new Error(`Const ${node.name}: no weight data in the manifest`);
        return;
      case 'Placeholder': {
        const dtype = tfDType(a.dtype?.type, `Placeholder ${node.name}`);
        const dims = (a.shape?.shape?.dim ?? []).map((d, i) => {
          const n = Number(d.size ?? -1);
          return n >= 0 ? n : `${node.name}_dim${i}`;
        });
        this.inputs.push({ name: out, dataType: onnxType(dtype), shape: dims });
        this.set(out, a.shape?.shape?.unknownRank ? undefined : dims.length, dtype);
        return;
      }
      case 'Identity':
      case 'StopGradient':
        return unary('Identity');
      case 'Add':
      case 'AddV2':
      case 'BiasAdd': {
        const fmt = attrString(a.data_format);
        if (node.op === 'BiasAdd' && fmt !== undefined && fmt !== 'NHWC') {
          throw new Error(`BiasAdd ${node.name}: data_format ${fmt} is not supported`);
        }
        return binary('Add');
      }
      case 'Sub':
        return binary('Sub');
      case 'Mul':
        return binary('Mul');
      case 'RealDiv':
        return binary('Div');
      case 'Maximum':
        return binary('Max');
      case 'Minimum':
        return binary('Min');
      case 'Less':
        return binary('Less', true);
      case 'Greater':
        return binary('Greater', true);
      case 'Relu':
        return unary('Relu');
      case 'Tanh':
        return unary('Tanh');
      case 'Sin':
        return unary('Sin');
      case 'Cos':
        return unary('Cos');
      case 'LogicalNot':
        return unary('Not');
      case 'Softmax': {
        const x = this.in(node, 0);
        this.emit('Softmax', [x], [out], [{ name: 'axis', kind: 'int', value: -1 }]);
        this.set(out, this.rank(x), 'float32');
        return;
      }
      case 'Rsqrt': {
        const x = this.in(node, 0);
        const s = this.tmp(node);
        this.emit('Sqrt', [x], [s]);
        this.emit('Reciprocal', [s], [out]);
        this.set(out, this.rank(x), this.dtypes.get(x));
        return;
      }
      case 'Square': {
        const x = this.in(node, 0);
        this.emit('Mul', [x, x], [out]);
        this.set(out, this.rank(x), this.dtypes.get(x));
        return;
      }
      case 'Cast': {
        const dst = tfDType(a.DstT?.type, `Cast ${node.name}`);
        const x = this.in(node, 0);
        this.emit('Cast', [x], [out], [{ name: 'to', kind: 'int', value: onnxType(dst) }]);
        this.set(out, this.rank(x), dst);
        return;
      }
      case 'Shape': {
        const x = this.in(node, 0);
        this.emit('Shape', [x], [out]);
        this.set(out, 1, 'int64');
        return;
      }
      case 'MatMul': {
        let x = this.in(node, 0);
        let y = this.in(node, 1);
        if (attrBool(a.transpose_a)) {
          const t = this.tmp(node);
          this.emit('Transpose', [x], [t], [{ name: 'perm', kind: 'ints', value: [1, 0] }]);
          x = t;
        }
        if (attrBool(a.transpose_b)) {
          const t = this.tmp(node);
          this.emit('Transpose', [y], [t], [{ name: 'perm', kind: 'ints', value: [1, 0] }]);
          y = t;
        }
        this.emit('MatMul', [x, y], [out]);
        this.set(out, 2, 'float32');
        return;
      }
      case 'BatchMatMul':
      case 'BatchMatMulV2': {
        const operand = (i: number, adj: boolean): string => {
          const x = this.in(node, i);
          if (!adj) return x;
          const r = this.requireRank(node, x);
          const perm = Array.from({ length: r }, (_, k) => k);
          [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
          const t = this.tmp(node);
          this.emit('Transpose', [x], [t], [{ name: 'perm', kind: 'ints', value: perm }]);
          return t;
        };
        const x = operand(0, attrBool(a.adj_x));
        const y = operand(1, attrBool(a.adj_y));
        this.emit('MatMul', [x, y], [out]);
        const rx = this.rank(this.in(node, 0));
        const ry = this.rank(this.in(node, 1));
        this.set(out, rx === undefined || ry === undefined ? undefined : Math.max(rx, ry), 'float32');
        return;
      }
      case 'Conv2D': {
        // Only the 1×1, stride-1 NHWC convolutions that Tensor2Tensor uses as dense layers:
        // exactly x · W over the channel axis.
        const kernel = this.constOf(this.inputRefs(node)[1]);
        const strides = attrInts(a.strides);
        const dil = attrInts(a.dilations);
        const fmt = attrString(a.data_format) ?? 'NHWC';
        if (
          !kernel ||
          kernel.dtype !== 'float32' ||
          kernel.shape.length !== 4 ||
          kernel.shape[0] !== 1 ||
          kernel.shape[1] !== 1 ||
          fmt !== 'NHWC' ||
          strides.some((s) => s !== 1) ||
          dil.some((d) => d !== 1)
        ) {
          throw new Error(`Conv2D ${node.name}: only 1x1 stride-1 NHWC convolutions with a Const kernel are supported`);
        }
        const wName = `${this.inputRefs(node)[1]}/__as_matrix`;
        if (!this.materialised.has(wName)) {
          this.materialised.add(wName);
          const v = kernel.values as Float32Array;
          this.initializers.push({
            name: wName,
            dataType: OnnxDataType.FLOAT,
            dims: [kernel.shape[2], kernel.shape[3]],
            raw: new Uint8Array(v.buffer, v.byteOffset, v.byteLength),
          });
        }
        const x = this.in(node, 0);
        this.emit('MatMul', [x, wName], [out]);
        this.set(out, this.rank(x), 'float32');
        return;
      }
      case 'Reshape': {
        const x = this.in(node, 0);
        const c = this.constOf(this.inputRefs(node)[1]);
        const shape = c ? this.int64(Array.from(c.values as Int32Array)) : this.in(node, 1);
        // allowzero=1: a 0 in the shape means an empty dimension, as in TF.
        this.emit('Reshape', [x, shape], [out], [{ name: 'allowzero', kind: 'int', value: 1 }]);
        this.set(out, c ? c.values.length : undefined, this.dtypes.get(x));
        return;
      }
      case 'ExpandDims': {
        const x = this.in(node, 0);
        const dim = this.constInts(node, 1, 'dim');
        this.emit('Unsqueeze', [x, this.int64(dim)], [out]);
        const r = this.rank(x);
        this.set(out, r === undefined ? undefined : r + 1, this.dtypes.get(x));
        return;
      }
      case 'Squeeze': {
        const x = this.in(node, 0);
        const dims = attrInts(a.squeeze_dims);
        if (dims.length === 0) this.emit('Squeeze', [x], [out]);
        else this.emit('Squeeze', [x, this.int64(dims)], [out]);
        const r = this.rank(x);
        this.set(out, r === undefined || dims.length === 0 ? undefined : r - dims.length, this.dtypes.get(x));
        return;
      }
      case 'Transpose': {
        const x = this.in(node, 0);
        const perm = this.constInts(node, 1, 'perm');
        this.emit('Transpose', [x], [out], [{ name: 'perm', kind: 'ints', value: perm }]);
        this.set(out, perm.length, this.dtypes.get(x));
        return;
      }
      case 'ConcatV2': {
        const n = this.inputRefs(node).length - 1;
        const axis = this.constInts(node, n, 'axis');
        const xs = Array.from({ length: n }, (_, i) => this.in(node, i));
        this.emit('Concat', xs, [out], [{ name: 'axis', kind: 'int', value: axis[0] }]);
        this.set(out, this.rank(xs[0]), this.dtypes.get(xs[0]));
        return;
      }
      case 'Pack': {
        const axis = attrInt(a.axis, 0);
        const refs = this.inputRefs(node);
        const axes = this.int64([axis]);
        const parts = refs.map((_, i) => {
          const t = this.tmp(node);
          this.emit('Unsqueeze', [this.in(node, i), axes], [t]);
          return t;
        });
        this.emit('Concat', parts, [out], [{ name: 'axis', kind: 'int', value: axis }]);
        const r = this.rank(this.in(node, 0));
        this.set(out, r === undefined ? undefined : r + 1, t0());
        return;
      }
      case 'GatherV2': {
        if (attrInt(a.batch_dims, 0) !== 0) throw new Error(`GatherV2 ${node.name}: batch_dims is not supported`);
        const axis = this.constInts(node, 2, 'axis');
        const params = this.in(node, 0);
        const indices = this.in(node, 1);
        this.emit('Gather', [params, indices], [out], [{ name: 'axis', kind: 'int', value: axis[0] }]);
        const rp = this.rank(params);
        const ri = this.rank(indices);
        this.set(out, rp === undefined || ri === undefined ? undefined : rp - 1 + ri, this.dtypes.get(params));
        return;
      }
      case 'GatherNd': {
        const params = this.in(node, 0);
        const indices = this.in(node, 1);
        this.emit('GatherND', [params, indices], [out]);
        this.set(out, undefined, this.dtypes.get(params));
        return;
      }
      case 'ScatterNd': {
        const indices = this.in(node, 0);
        const updates = this.in(node, 1);
        const shape = this.in(node, 2);
        const dtype = tfDType(a.T?.type, `ScatterNd ${node.name}`);
        const zeros = this.tmp(node);
        this.emit('ConstantOfShape', [shape], [zeros], [{ name: 'value', kind: 'tensor', value: this.scalarTensor(dtype, 0) }]);
        this.emit('ScatterND', [zeros, indices, updates], [out], [{ name: 'reduction', kind: 'string', value: 'add' }]);
        this.set(out, this.constOf(this.inputRefs(node)[2])?.values.length, dtype);
        return;
      }
      case 'SparseToDense': {
        // (sparse_indices [n, d], output_shape [d], sparse_values [n], default_value []).
        const indices = this.in(node, 0);
        if (this.rank(indices) !== 2) throw new Error(`SparseToDense ${node.name}: sparse_indices must be 2-D`);
        if (this.rank(this.in(node, 2)) !== 1) throw new Error(`SparseToDense ${node.name}: sparse_values must be 1-D`);
        const dtype = tfDType(a.T?.type, `SparseToDense ${node.name}`);
        const dflt = this.constOf(this.inputRefs(node)[3]);
        if (!dflt || dflt.values.length !== 1) throw new Error(`SparseToDense ${node.name}: default_value must be a scalar Const`);
        const filled = this.tmp(node);
        this.emit('ConstantOfShape', [this.in(node, 1)], [filled], [
          { name: 'value', kind: 'tensor', value: this.scalarTensor(dtype, Number(dflt.values[0])) },
        ]);
        this.emit('ScatterND', [filled, indices, this.in(node, 2)], [out]);
        this.set(out, this.constOf(this.inputRefs(node)[1])?.values.length, dtype);
        return;
      }
      case 'Where': {
        if (this.inputRefs(node).length !== 1) throw new Error(`Where ${node.name}: only the one-input form is supported`);
        const nz = this.tmp(node);
        this.emit('NonZero', [this.in(node, 0)], [nz]);
        this.emit('Transpose', [nz], [out], [{ name: 'perm', kind: 'ints', value: [1, 0] }]);
        this.set(out, 2, 'int64');
        return;
      }
      case 'StridedSlice':
        return this.stridedSlice(node, a);
      case 'Slice': {
        const x = this.in(node, 0);
        const begin = this.constInts(node, 1, 'begin');
        const size = this.constInts(node, 2, 'size');
        const ends = begin.map((b, i) => (size[i] < 0 ? INT64_MAX : BigInt(b + size[i])));
        const axes = begin.map((_, i) => i);
        this.emit('Slice', [x, this.int64(begin), this.int64(ends), this.int64(axes)], [out]);
        this.set(out, r0(), t0());
        return;
      }
      case 'SplitV': {
        const sizes = this.constInts(node, 1, 'size_splits');
        const axis = this.constInts(node, 2, 'axis');
        if (sizes.some((s) => s < 0)) throw new Error(`SplitV ${node.name}: inferred (-1) split sizes are not supported`);
        const x = this.in(node, 0);
        const outs = sizes.map((_, i) => tensorName(out, i));
        this.emit('Split', [x, this.int64(sizes)], outs, [{ name: 'axis', kind: 'int', value: axis[0] }]);
        for (const o of outs) this.set(o, this.rank(x), this.dtypes.get(x));
        return;
      }
      case 'Mean':
        return reduce('ReduceMean');
      case 'Sum':
        return reduce('ReduceSum');
      case 'Max':
        return reduce('ReduceMax');
      case 'Min':
        return reduce('ReduceMin');
      case 'Prod':
        return reduce('ReduceProd');
      case 'Range': {
        const xs = [0, 1, 2].map((i) => this.in(node, i));
        this.emit('Range', xs, [out]);
        this.set(out, 1, this.dtypes.get(xs[0]));
        return;
      }
      default:
        throw new Error(`${node.op} ${node.name}: TensorFlow op ${node.op} is not supported by the converter`);
    }
  }

  private scalarTensor(dtype: TfDType, value: number): OnnxTensor {
    const name = `__onnx_value_${this.counter++}`;
    if (dtype === 'float32') return { name, dataType: OnnxDataType.FLOAT, dims: [1], raw: new Uint8Array(new Float32Array([value]).buffer) };
    if (dtype === 'bool') return { name, dataType: OnnxDataType.BOOL, dims: [1], raw: new Uint8Array([value ? 1 : 0]) };
    return { name, dataType: OnnxDataType.INT64, dims: [1], raw: int64Raw([value]) };
  }

  /** StridedSlice with constant begin/end/strides, begin/end/shrink masks (no ellipsis, new axes). */
  private stridedSlice(node: TfNode, a: Record<string, TfAttrValue>): void {
    if (attrInt(a.ellipsis_mask, 0) !== 0 || attrInt(a.new_axis_mask, 0) !== 0) {
      throw new Error(`StridedSlice ${node.name}: ellipsis_mask and new_axis_mask are not supported`);
    }
    const begin = this.constInts(node, 1, 'begin');
    const end = this.constInts(node, 2, 'end');
    const strides = this.constInts(node, 3, 'strides');
    const beginMask = attrInt(a.begin_mask, 0);
    const endMask = attrInt(a.end_mask, 0);
    const shrinkMask = attrInt(a.shrink_axis_mask, 0);
    const starts: bigint[] = [];
    const ends: bigint[] = [];
    const shrink: number[] = [];
    for (let i = 0; i < begin.length; i++) {
      const step = strides[i];
      if (step === 0) throw new Error(`StridedSlice ${node.name}: stride 0`);
      if (shrinkMask & (1 << i)) {
        if (step !== 1) throw new Error(`StridedSlice ${node.name}: shrink with stride ${step} is not supported`);
        starts.push(BigInt(begin[i]));
        ends.push(begin[i] === -1 ? INT64_MAX : BigInt(begin[i] + 1));
        shrink.push(i);
        continue;
      }
      starts.push(beginMask & (1 << i) ? (step > 0 ? 0n : INT64_MAX) : BigInt(begin[i]));
      ends.push(endMask & (1 << i) ? (step > 0 ? INT64_MAX : -INT64_MAX - 1n) : BigInt(end[i]));
    }
    const x = this.in(node, 0);
    const axes = begin.map((_, i) => i);
    const sliced = shrink.length ? this.tmp(node) : node.name;
    this.emit('Slice', [x, this.int64(starts), this.int64(ends), this.int64(axes), this.int64(strides)], [sliced]);
    if (shrink.length) this.emit('Squeeze', [sliced, this.int64(shrink)], [node.name]);
    const r = this.rank(x);
    this.set(node.name, r === undefined ? undefined : r - shrink.length, this.dtypes.get(x));
  }

  outputInfo(name: string): OnnxValueInfo {
    const dtype = this.dtypes.get(name);
    const r = this.rank(name);
    if (!dtype) throw new Error(`output ${name}: dtype unknown`);
    const shape = r === undefined ? undefined : Array.from({ length: r }, (_, i) => `${name}_dim${i}`);
    return { name, dataType: onnxType(dtype), shape };
  }
}

/** Topological order of the graph's nodes (TF.js keeps GraphDef order, which need not be one). */
function topoSort(nodes: readonly TfNode[]): TfNode[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const state = new Map<string, 1 | 2>();
  const order: TfNode[] = [];
  for (const root of nodes) {
    if (state.has(root.name)) continue;
    const stack: [TfNode, number][] = [[root, 0]];
    state.set(root.name, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [n, k] = top;
      const refs = n.input ?? [];
      if (k < refs.length) {
        top[1]++;
        const p = parseInput(refs[k].replace(/^\^/, ''));
        const dep = p ? byName.get(p.node) : undefined;
        if (!dep) {
          if (p) throw new Error(`${n.op} ${n.name}: input ${refs[k]} is not in the graph`);
          continue;
        }
        const s = state.get(dep.name);
        if (s === 1) throw new Error(`${n.op} ${n.name}: the graph has a cycle`);
        if (s === undefined) {
          state.set(dep.name, 1);
          stack.push([dep, 0]);
        }
      } else {
        stack.pop();
        state.set(n.name, 2);
        order.push(n);
      }
    }
  }
  return order;
}

/** Convert a TF graph (as loaded by `loadTfGraphModel`) to an ONNX model. */
export function convertTfGraph(graph: TfGraphModel, options: ConvertOptions): OnnxModel {
  const consumed = new Set<string>();
  for (const n of graph.nodes) {
    for (const ref of n.input ?? []) {
      const p = parseInput(ref.replace(/^\^/, ''));
      if (p) consumed.add(p.node);
    }
  }
  const outputs =
    options.outputs ?? graph.nodes.filter((n) => n.op !== 'Const' && !consumed.has(n.name)).map((n) => n.name);
  if (outputs.length === 0) throw new Error('the graph has no outputs');
  const c = new Converter(graph);
  for (const n of topoSort(graph.nodes)) c.convertNode(n);
  return {
    opsetVersion: ONNX_OPSET,
    producerName: 'synapse-g tf-graph converter',
    producerVersion: options.producerVersion,
    docString: options.docString ?? '',
    graphName: 'converted',
    nodes: c.nodes,
    initializers: c.initializers,
    inputs: c.inputs,
    outputs: outputs.map((o) => c.outputInfo(o)),
  };
}
