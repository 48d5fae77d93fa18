/**
 * One optimiser step of EResFD on a host batch of S×S images, as the reference trains (`train.py`):
 * train-mode forward (batch-statistics BN, running stats updated), MultiBoxLoss (SPEC §7), the
 * gradients of the optimised parameters, torch Adam. Matching runs on the host before the forward;
 * nothing is read back synchronously — the loss pair stays on the device. The trainer runs every step
 * through this, and so does the training benchmark.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainableEResFD } from '../model/eresfd/trainable.ts';
import { priorBoxes } from '../model/eresfd/priors.ts';
import { matchBatch } from '../loss/match.ts';
import { multiboxLossFromMatch } from '../loss/multibox-loss.ts';
import type { TorchAdam } from './adam.ts';
import type { GraphOutput } from '../model/eresfd/graph.ts';
import { distillationLoss } from '../loss/distillation.ts';

/** A training batch on the host: normalised NHWC pixels of `count` S×S images and their targets. */
export interface TrainBatch {
  /** [count·S·S·3] (normalizeImage rows). */
  x: Float32Array;
  /** Per image `[n, 5]` rows: x1, y1, x2, y2 (normalised), label. */
  targets: Float32Array[];
  count: number;
}

/**
 * Distillation from a teacher on the same batch: `weight · distillationLoss` joins the optimised loss
 * (the returned pair stays MultiBoxLoss's, so losses compare with and without it).
 */
export interface StepDistillation {
  teacher: (x: tf.Tensor4D) => Pick<GraphOutput, 'loc' | 'conf'>;
  weight: number;
}

/** Runs one step and returns the device loss pair [lossL, lossC]; `afterStep` runs after Adam. */
export type TrainStep = (batch: TrainBatch, afterStep?: () => void) => tf.Tensor1D;

/**
 * @param optimised the parameters that get gradients and Adam updates (default: all of the model's;
 *   must be the ones `adam` owns).
 */
export function createTrainStep(model: TrainableEResFD, adam: TorchAdam, size: number, optimised: ReadonlyMap<string, tf.Variable> = model.params, distill?: StepDistillation): TrainStep {
  const priors = priorBoxes(size, size);
  const keyOf = new Map<string, string>();
  for (const [key, v] of optimised) keyOf.set(v.name, key);
  const varList = [...optimised.values()];
  return (batch, afterStep) => {
    const match = matchBatch(priors, batch.targets);
    return tf.tidy(() => {
      const x = tf.tensor4d(batch.x, [batch.count, size, size, 3]);
      // The teacher runs outside the gradient tape: its outputs are constants of the loss.
      const soft = distill ? distill.teacher(x) : null;
      const numPos = match.numPosPerImage.reduce((a, b) => a + b, 0);
      let pair: tf.Tensor1D | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const out = model.forwardTrain(x, { deferStats: true });
        const { lossL, lossC } = multiboxLossFromMatch(out.loc, out.conf, match);
        pair = tf.keep(tf.stack([lossL, lossC]) as tf.Tensor1D);
        const loss = tf.add(lossL, lossC) as tf.Scalar;
        return soft ? (tf.add(loss, tf.mul(distillationLoss(out, soft, numPos), distill!.weight)) as tf.Scalar) : loss;
      }, varList);
      value.dispose();
      model.commitStats();
      const byKey = new Map<string, tf.Tensor>();
      for (const [name, g] of Object.entries(grads)) byKey.set(keyOf.get(name) ?? name, g);
      adam.step(byKey);
      afterStep?.();
      return pair!;
    });
  };
}
