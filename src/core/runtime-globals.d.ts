/**
 * The few host globals the core uses, declared by hand because the core zone compiles with `lib: ["ES2022"]`
 * and no DOM, WebWorker or Node types (src/core/tsconfig.json). Each one exists with this shape in every
 * runtime the core runs in: browser windows, dedicated workers and Node >= 20. Declaring only the members the
 * core calls keeps the zone honest: `document`, `window`, `fs` or `process` still fail to compile here.
 * Only the core program includes this file; other zones see these names from their own lib.
 */

/** Cancellation only: the core reads a signal, it never creates or listens to one. */
interface AbortSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  throwIfAborted(): void;
}

/** Thrown as `new DOMException('aborted', 'AbortError')` when a signal aborts without a reason. */
interface DOMException extends Error {}
declare var DOMException: { prototype: DOMException; new (message?: string, name?: string): DOMException };

/** Wall-clock timing of forwards, trials and backend probes. */
interface Performance {
  now(): number;
}
declare var performance: Performance;

/** UTF-8 / Latin-1 for checkpoint (zip, pickle), .mat and ONNX protobuf strings. */
interface TextEncoder {
  encode(input?: string): Uint8Array<ArrayBuffer>;
}
declare var TextEncoder: { prototype: TextEncoder; new (): TextEncoder };
interface TextDecoder {
  decode(input?: ArrayBufferView | ArrayBufferLike): string;
}
declare var TextDecoder: { prototype: TextDecoder; new (label?: string, options?: { fatal?: boolean }): TextDecoder };

/** Deep copy of plain-data configs (layer groupings). */
declare function structuredClone<T>(value: T): T;

/** Base64 → binary string, for WASM modules embedded in the source. */
declare function atob(data: string): string;
