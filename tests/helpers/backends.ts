/** Registers the Node-capable backends (CPU, WASM) for tests and activates one through selectBackend. */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { selectBackend } from '../../src/core/backend/select-backend.ts';
import type { BackendName } from '../../src/core/types.ts';

export const NODE_BACKENDS: BackendName[] = ['wasm', 'cpu'];

export async function useBackend(name: BackendName): Promise<void> {
  const sel = await selectBackend([name]);
  if (sel.active !== name) throw new Error(`backend ${name} not active`);
}
