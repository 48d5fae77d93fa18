/**
 * Registers TF.js gradient functions in Node. tfjs-core's CJS bundle (what Node resolves) ships
 * without them; the umbrella `@tensorflow/tfjs` Node bundle registers them into the shared registry
 * on load (~0.2 s). Browser entry points import `@tensorflow/tfjs-core/dist/register_all_gradients`
 * instead, which is the ESM equivalent without layers/converter.
 */
import '@tensorflow/tfjs';
