/**
 * The WGSL program as tfjs-backend-webgpu 4.22 really assembles it: a WebGPUBackend on a stub device
 * (no GPU in Node) runs `runWebGPUProgram`, and the shader source handed to `createShaderModule` is
 * checked for the helpers our `main` calls. Compiling and running it is left to the browser test.
 * Kept in its own file because it fakes WebGPU globals (`navigator.gpu`, `GPUBufferUsage`).
 */
import { describe, expect, it } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { FpgmDistancesProgram } from '../../../src/core/backend/kernels/fpgm-distances-webgpu.ts';

async function assembledShader(batch: number, filters: number, d: number): Promise<string> {
  const g = globalThis as unknown as Record<string, unknown> & { navigator?: Record<string, unknown> };
  if (!g.navigator) g.navigator = {};
  g.navigator.gpu ??= {};
  g.GPUBufferUsage ??= { MAP_READ: 1, MAP_WRITE: 2, COPY_SRC: 4, COPY_DST: 8, INDEX: 16, VERTEX: 32, UNIFORM: 64, STORAGE: 128, INDIRECT: 256, QUERY_RESOLVE: 512 };
  g.GPUMapMode ??= { READ: 1, WRITE: 2 };
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  const codes: string[] = [];
  const inert: unknown = new Proxy(function () {}, { get: (_t, p) => (p === 'then' ? undefined : inert), apply: () => inert });
  const device = new Proxy({}, {
    get(_t, p) {
      if (p === 'limits') return { maxComputeWorkgroupsPerDimension: 65535, maxStorageBufferBindingSize: 1 << 30, maxBufferSize: 1 << 30 };
      if (p === 'features') return new Set();
      if (p === 'createShaderModule') return (desc: { code: string }) => (codes.push(desc.code), inert);
      if (p === 'createBuffer') return (desc: { size: number; usage: number }) => ({ ...desc, getMappedRange: () => new ArrayBuffer(desc.size), unmap() {}, destroy() {}, mapAsync: async () => {} });
      return p === 'then' ? undefined : inert;
    },
  });
  const backend = new (WebGPUBackend as unknown as new (device: unknown, info: unknown) => {
    write(values: Float32Array, shape: number[], dtype: 'float32'): object;
    runWebGPUProgram(program: FpgmDistancesProgram, inputs: unknown[], dtype: 'float32'): unknown;
  })(device, {});
  const shape = [batch, filters, d];
  const dataId = backend.write(new Float32Array(batch * filters * d), shape, 'float32');
  try {
    backend.runWebGPUProgram(new FpgmDistancesProgram(batch, filters), [{ dataId, shape, dtype: 'float32' }], 'float32');
  } catch {
    // Recording the dispatch needs real GPU objects; the shader was compiled before that.
  }
  expect(codes).toHaveLength(1);
  return codes[0]!;
}

describe('FpgmDistancesProgram assembled by tfjs-backend-webgpu', () => {
  it('defines every helper and uniform the kernel uses, with the arities it uses', async () => {
    const code = await assembledShader(3, 16, 144);
    expect(code).toMatch(/fn getX\(d0 : i32, d1 : i32, d2 : i32\) -> f32/);
    expect(code).toMatch(/fn getCoordsFromIndex\(index : i32\) -> vec2<i32>/);
    expect(code).toMatch(/fn setOutputAtIndex\(flatIndex : i32, value : f32\)/);
    expect(code).toMatch(/xShape : vec3<i32>/);
    expect(code).toMatch(/size : i32/);
    expect(code.match(/fn main\(/g)).toHaveLength(1);
    expect(code).toMatch(/main\(getGlobalIndex\(\)\)/); // flat layout: our main gets the flat index
    expect(code).toMatch(/@workgroup_size\(64, 1, 1\)/);
    expect(code.split('{').length).toBe(code.split('}').length);
  });
});
