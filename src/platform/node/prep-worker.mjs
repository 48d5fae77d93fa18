// Entry of a training-sample preparation worker (prep-pool.ts). Node 20 runs no TypeScript, and a worker
// thread does not inherit the tsx hooks of the thread that started it (under `tsx` or vitest alike), so
// the hooks are registered here before the TypeScript worker loads.
import { register } from 'tsx/esm/api';

register();
await import('./prep-worker.ts');
