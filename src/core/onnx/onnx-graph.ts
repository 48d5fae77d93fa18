/**
 * A minimal ONNX model builder over protobuf.ts: nodes, float/int64 initializers, graph inputs and
 * outputs with symbolic dimensions, opset imports and metadata. Field numbers are those of onnx.proto
 * (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto).
 */
import { ProtoWriter } from './protobuf.ts';

/** IR version 8 pairs with opset 18 (Resize's `axes`, Shape's `start`/`end`). */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 18;

const DataType = { FLOAT: 1, INT64: 7 } as const;
const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

export type AttributeValue = number | string | number[] | { floats: number[] };
export type Dim = number | string;

export class OnnxGraphBuilder {
  private readonly nodes: ProtoWriter[] = [];
  private readonly initializers: ProtoWriter[] = [];
  private readonly inputs: ProtoWriter[] = [];
  private readonly outputs: ProtoWriter[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  /** A fresh value name with a readable prefix. */
  fresh(prefix: string): string {
    let name = prefix;
    while (this.names.has(name)) name = `${prefix}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  /**
   * One node; returns its output names. Integer attributes are INT(S); use `{ floats }` for FLOATS.
   * A number attribute that is not an integer is written as FLOAT.
   */
  node(op: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, outputs: string[] | number = 1): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(op.toLowerCase())) : outputs;
    const n = new ProtoWriter();
    for (const i of inputs) n.string(1, i);
    for (const o of outs) n.string(2, o);
    n.string(3, outs[0]!);
    n.string(4, op);
    for (const [name, value] of Object.entries(attributes)) n.message(5, attribute(name, value));
    this.nodes.push(n);
    return outs;
  }

  /** Shorthand for a single-output node. */
  op(op: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, name?: string): string {
    return this.node(op, inputs, attributes, name ? [this.fresh(name)] : 1)[0]!;
  }

  floats(prefix: string, data: Float32Array, dims: number[]): string {
    const name = this.fresh(prefix);
    this.initializers.push(tensor(name, DataType.FLOAT, dims, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
    return name;
  }

  int64s(prefix: string, values: number[]): string {
    const name = this.fresh(prefix);
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push(tensor(name, DataType.INT64, [values.length], new Uint8Array(data.buffer)));
    return name;
  }

  /** A float scalar initializer (shape []). */
  scalar(prefix: string, value: number): string {
    const name = this.fresh(prefix);
    this.initializers.push(tensor(name, DataType.FLOAT, [], new Uint8Array(Float32Array.of(value).buffer)));
    return name;
  }

  input(name: string, dims: Dim[]): string {
    this.names.add(name);
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  output(name: string, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, dims));
  }

  /** The serialized ModelProto. */
  model(options: { graphName: string; producer: string; producerVersion: string; doc: string; metadata: Record<string, string> }): Uint8Array {
    const graph = new ProtoWriter();
    for (const n of this.nodes) graph.message(1, n);
    graph.string(2, options.graphName);
    for (const t of this.initializers) graph.message(5, t);
    for (const i of this.inputs) graph.message(11, i);
    for (const o of this.outputs) graph.message(12, o);
    const model = new ProtoWriter()
      .int(1, ONNX_IR_VERSION)
      .string(2, options.producer)
      .string(3, options.producerVersion)
      .string(6, options.doc)
      .message(7, graph)
      .message(8, new ProtoWriter().string(1, '').int(2, ONNX_OPSET));
    for (const [key, value] of Object.entries(options.metadata)) model.message(14, new ProtoWriter().string(1, key).string(2, value));
    return model.finish();
  }
}

function attribute(name: string, value: AttributeValue): ProtoWriter {
  const a = new ProtoWriter().string(1, name);
  if (typeof value === 'string') return a.string(4, value).int(20, AttributeType.STRING);
  if (typeof value === 'number') {
    return Number.isInteger(value) ? a.int(3, value).int(20, AttributeType.INT) : a.float(2, value).int(20, AttributeType.FLOAT);
  }
  if (Array.isArray(value)) {
    for (const v of value) a.int(8, v);
    return a.int(20, AttributeType.INTS);
  }
  for (const v of value.floats) a.float(7, v);
  return a.int(20, AttributeType.FLOATS);
}

function tensor(name: string, dataType: number, dims: number[], raw: Uint8Array): ProtoWriter {
  const t = new ProtoWriter();
  for (const d of dims) t.int(1, d);
  return t.int(2, dataType).string(8, name).bytes(9, raw);
}

function valueInfo(name: string, dims: Dim[]): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  const tensorType = new ProtoWriter().int(1, DataType.FLOAT).message(2, shape);
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}
