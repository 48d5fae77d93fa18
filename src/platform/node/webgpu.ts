/**
 * WebGPU in Node through the `webgpu` package (Dawn): installs its globals and `navigator.gpu` before
 * TF.js's WebGPU backend is imported (it registers itself only when navigator.gpu exists), so the CLI,
 * bench and tests run the browser's WebGPU kernels on any GPU box without a browser. On a machine
 * without a GPU, Dawn can use a software Vulkan driver (SwiftShader):
 *   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json LD_LIBRARY_PATH=/usr/lib/chromium
 */
import { StudioError } from '../../core/data/index.ts';

let installed: Promise<GPUAdapterInfoSummary> | null = null;

export interface GPUAdapterInfoSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

/** Creates Dawn's GPU, checks that an adapter exists, and registers TF.js's WebGPU backend (once). */
export function installNodeWebGPU(): Promise<GPUAdapterInfoSummary> {
  installed ??= (async () => {
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    const gpu = create([]);
    const g = globalThis as { navigator?: { gpu?: unknown } };
    if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    const adapter = await gpu.requestAdapter();
    if (!adapter) {
      throw new StudioError('BACKEND_UNAVAILABLE', 'Dawn found no WebGPU adapter (no Vulkan driver?). For a software adapter: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json LD_LIBRARY_PATH=/usr/lib/chromium');
    }
    await import('@tensorflow/tfjs-backend-webgpu');
    const i = adapter.info;
    return { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description };
  })();
  installed.catch(() => (installed = null));
  return installed;
}
