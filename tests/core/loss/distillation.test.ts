/**
 * Distillation loss against values worked out by hand: KL of the class scores over every prior,
 * the teacher-face-weighted smooth-L1 of the boxes, both over MultiBoxLoss's N.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../helpers/backends.ts';
import { distillationLoss } from '../../../src/core/loss/distillation.ts';

describe('distillationLoss', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('is zero when the student matches the teacher and follows the hand-worked value otherwise', async () => {
    const teacher = { loc: tf.tensor3d([[[0, 0, 0, 0], [1, 1, 1, 1]]]), conf: tf.tensor3d([[[0, 0], [3, -3]]]) };
    expect(await distillationLoss(teacher, teacher, 1).data()).toEqual(new Float32Array([0]));
    const student = { loc: tf.tensor3d([[[2, 0, 0, 0], [1, 1, 1, 1]]]), conf: tf.tensor3d([[[1, 0], [3, -3]]]) };
    // Prior 0: teacher p = (½, ½), student p = softmax(1, 0); KL = Σ p_t (log p_t − log p_s).
    const ps1 = Math.exp(1) / (Math.exp(1) + 1);
    const kl = 0.5 * (Math.log(0.5) - Math.log(ps1)) + 0.5 * (Math.log(0.5) - Math.log(1 - ps1));
    // Box: face probability ½ × smoothL1(2) = ½ × 1.5; prior 1 contributes nothing.
    const expected = kl + 0.5 * 1.5;
    expect((await distillationLoss(student, teacher, 1).data())[0]).toBeCloseTo(expected, 5);
    expect((await distillationLoss(student, teacher, 2).data())[0]).toBeCloseTo(expected / 2, 5);
  });

  it('differentiates in the student outputs', async () => {
    const teacher = { loc: tf.zeros([1, 3, 4]) as tf.Tensor3D, conf: tf.tensor3d([[[2, -1], [0, 0], [-1, 2]]]) };
    const g = tf.grads((loc: tf.Tensor, conf: tf.Tensor) => distillationLoss({ loc: loc as tf.Tensor3D, conf: conf as tf.Tensor3D }, teacher, 1));
    const [dLoc, dConf] = g([tf.fill([1, 3, 4], 0.5), tf.zeros([1, 3, 2])]);
    expect(Math.max(...(await dLoc!.abs().data()))).toBeGreaterThan(0);
    expect(Math.max(...(await dConf!.abs().data()))).toBeGreaterThan(0);
  });
});
