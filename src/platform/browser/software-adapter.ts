/**
 * Tells whether the GPU backends would run on a software rasteriser (SwiftShader, llvmpipe): such a
 * WebGPU adapter is 50–100× slower than WASM for EResFD, so the default order passes over it. A user
 * who forces `?backend=webgpu` still gets it.
 */
import type { BackendName } from '../../core/data/index.ts';

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|software|microsoft basic render/i;

interface AdapterInfoLike { vendor?: string; architecture?: string; device?: string; description?: string }
interface GpuAdapterLike { isFallbackAdapter?: boolean; info?: AdapterInfoLike }

export async function softwareAdapterReason(name: BackendName): Promise<string | null> {
  if (name === 'webgpu') {
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } }).gpu;
    const adapter = gpu ? await gpu.requestAdapter() : null;
    if (!adapter) return null;
    const i = adapter.info ?? {};
    const text = [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ');
    if (adapter.isFallbackAdapter || SOFTWARE.test(text)) return `software WebGPU adapter (${text || 'fallback'})`;
  }
  if (name === 'webgl' && typeof OffscreenCanvas !== 'undefined') {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2') as WebGL2RenderingContext | null;
    const ext = gl?.getExtension('WEBGL_debug_renderer_info');
    const renderer = gl && ext ? String(gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)) : '';
    gl?.getExtension('WEBGL_lose_context')?.loseContext();
    if (SOFTWARE.test(renderer)) return `software WebGL renderer (${renderer})`;
  }
  return null;
}
