/** Backends available to Node entry points (CLI, bench): WASM (fast path) and the pure-JS CPU backend. */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { selectBackend, type BackendName, type BackendSelection } from '../../core/index.ts';

export const NODE_BACKEND_ORDER: BackendName[] = ['wasm', 'cpu'];

export async function selectNodeBackend(preferred?: string): Promise<BackendSelection> {
  const order = preferred ? [preferred as BackendName] : NODE_BACKEND_ORDER;
  return selectBackend(order);
}
