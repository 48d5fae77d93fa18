/**
 * Knowledge distillation from the unpruned EResFD (the teacher) to a pruned student, on the same
 * augmented batch, next to MultiBoxLoss: the teacher's head outputs are soft targets.
 *
 *   kd_c = Σ_priors KL(softmax(t_conf) ‖ softmax(s_conf)) / N
 *   kd_l = Σ_priors p_face(t) · smoothL1(s_loc − t_loc) / N
 *
 * N is MultiBoxLoss's normaliser (matched priors of the batch), so both terms weigh like loss_c and
 * loss_l. The dense class term also teaches the background the teacher rejects (the hard negatives a
 * short fine-tune forgets first); the box term counts where the teacher sees a face.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphOutput } from '../model/eresfd/graph.ts';

/** The distillation loss (a scalar, differentiable in the student's outputs; the teacher's are constants). */
export function distillationLoss(student: Pick<GraphOutput, 'loc' | 'conf'>, teacher: Pick<GraphOutput, 'loc' | 'conf'>, numPos: number): tf.Scalar {
  return tf.tidy(() => {
    const n = Math.max(numPos, 1);
    const tLog = tf.logSoftmax(teacher.conf);
    const tProb = tf.exp(tLog);
    const kl = tf.sum(tf.mul(tProb, tf.sub(tLog, tf.logSoftmax(student.conf))));
    const face = tf.squeeze(tf.slice(tProb, [0, 0, 1], [-1, -1, 1]), [2]);
    const d = tf.abs(tf.sub(student.loc, teacher.loc));
    // smoothL1(d) = ½·min(d, 1)² + (d − min(d, 1)); no comparison op, so it differentiates in TF.js.
    const q = tf.minimum(d, 1);
    const smoothL1 = tf.sum(tf.add(tf.mul(tf.square(q), 0.5), tf.sub(d, q)), 2);
    const loc = tf.sum(tf.mul(face, smoothL1));
    return tf.div(tf.add(kl, loc), n) as tf.Scalar;
  });
}
