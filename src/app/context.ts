/** Typed contexts shared by the studio's components (getters throw when no parent provided them). */
import { createContext } from 'svelte';
import type { ComputeClient } from './compute-client.ts';
import type { ModelState } from './features/model/model-state.svelte.ts';

export interface StudioContext {
  client: ComputeClient;
  model: ModelState;
}

export const [getStudioContext, setStudioContext] = createContext<StudioContext>();
