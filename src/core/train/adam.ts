/**
 * Adam with PyTorch 1.13 semantics (`torch.optim.Adam`, single-tensor path, amsgrad=False), which
 * the reference trains and fine-tunes with (SPEC §8: lr 1e-3, weight_decay 5e-4):
 *
 *   g' = g + wd·p                                  L2 folded into the gradient (not AdamW)
 *   m  = β1·m + (1−β1)·g'
 *   v  = β2·v + (1−β2)·g'·g'
 *   p  = p − (lr/bc1) · m / (sqrt(v)/sqrt(bc2) + eps),   bc_i = 1 − β_i^step
 *
 * evaluated as float32 tf ops in torch's order (scalars rounded to float32 as torch casts a Python
 * scalar for a float32 tensor). `tf.train.adam` is not usable: its epsilon defaults to 1e-7, it has
 * no weight decay, and one step counter for all variables.
 *
 * A parameter whose gradient is absent (null/undefined, torch: `grad is None`, e.g. the dead
 * `layer5`) is skipped entirely: no decay, no moment update, and its own step counter stays put —
 * torch keeps `state['step']` per parameter.
 */
import * as tf from '@tensorflow/tfjs-core';
import { reshapeView } from '../backend/reshape-view.ts';

export interface AdamConfig {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  /** L2 penalty added to the gradient (torch `weight_decay`). */
  weightDecay: number;
}

export const DEFAULT_ADAM_CONFIG: AdamConfig = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 };

export function validateAdamConfig(config: Partial<AdamConfig>): AdamConfig {
  const c: AdamConfig = { ...DEFAULT_ADAM_CONFIG, ...config, betas: [...(config.betas ?? DEFAULT_ADAM_CONFIG.betas)] as [number, number] };
  if (!(c.lr >= 0) || !Number.isFinite(c.lr)) throw new RangeError(`Adam: invalid learning rate ${c.lr}`);
  if (!(c.eps >= 0)) throw new RangeError(`Adam: invalid epsilon ${c.eps}`);
  if (!(c.betas[0] >= 0 && c.betas[0] < 1) || !(c.betas[1] >= 0 && c.betas[1] < 1)) throw new RangeError(`Adam: invalid betas ${c.betas.join(', ')}`);
  if (!(c.weightDecay >= 0)) throw new RangeError(`Adam: invalid weight decay ${c.weightDecay}`);
  return c;
}

/** Host copy of the optimiser state (checkpoint/resume). Arrays are in the variable's TF layout. */
export interface AdamState {
  config: AdamConfig;
  params: Record<string, { step: number; expAvg: Float32Array; expAvgSq: Float32Array }>;
}

export type GradMap = ReadonlyMap<string, tf.Tensor | null | undefined> | Readonly<Record<string, tf.Tensor | null | undefined>>;

export interface TorchAdam {
  readonly config: Readonly<AdamConfig>;
  /** Current learning rate (what the next `step` uses). */
  lr: number;
  /**
   * One update of every parameter that has a gradient in `grads` (keyed by params-map key or by
   * variable name, as `tf.variableGrads` returns them); the grads are not disposed.
   */
  step(grads: GradMap): void;
  /** Step count of one parameter (0 before its first update). */
  stepOf(name: string): number;
  /** Copies moments and step counts to the host (awaits the device, no sync readback). */
  exportState(): Promise<AdamState>;
  /** Restores a state from `exportState`, hyperparameters included (shapes must match the variables). */
  importState(state: AdamState): void;
  dispose(): void;
}

interface Slot {
  step: number;
  m: tf.Tensor | null;
  v: tf.Tensor | null;
}

function gradOf(grads: GradMap, name: string): tf.Tensor | null | undefined {
  return grads instanceof Map ? grads.get(name) : (grads as Readonly<Record<string, tf.Tensor | null | undefined>>)[name];
}

/**
 * @param params trainable variables by name (e.g. `TrainableEResFD.params`); updated in place.
 */
export function createTorchAdam(params: ReadonlyMap<string, tf.Variable>, config: Partial<AdamConfig> = {}): TorchAdam {
  let cfg = validateAdamConfig(config);
  const slots = new Map<string, Slot>();
  for (const name of params.keys()) slots.set(name, { step: 0, m: null, v: null });
  let lr = cfg.lr;

  interface Member { name: string; p: tf.Variable; g: tf.Tensor; slot: Slot }

  /**
   * The moments of the group updated last, kept as flat vectors: while the same parameters get
   * gradients step after step (always, in practice), they are never split per parameter. Their slots'
   * `m`/`v` are null meanwhile; `flushFlat` writes them back.
   */
  let flatGroup: { names: string[]; m: tf.Tensor; v: tf.Tensor } | null = null;

  function flushFlat(): void {
    if (!flatGroup) return;
    const { names, m, v } = flatGroup;
    flatGroup = null;
    const shapes = names.map((n) => params.get(n)!.shape);
    const split = (t: tf.Tensor) => tf.tidy(() => tf.split(t, shapes.map((sh) => tf.util.sizeFromShape(sh))).map((part, k) => reshapeView(part, shapes[k]!)));
    const ms = split(m), vs = split(v);
    names.forEach((n, k) => {
      const slot = slots.get(n)!;
      // keep: the caller may run inside its own tf.tidy, which must not take the moments with it.
      slot.m = tf.keep(ms[k]!);
      slot.v = tf.keep(vs[k]!);
    });
    tf.dispose([m, v]);
  }

  /**
   * One update of parameters that share a step count, as one flat vector: the same elementwise ops
   * in torch's order (so the same values as per parameter), but ~20 kernels for the whole group
   * instead of ~15 per parameter — on WASM each kernel costs microseconds of dispatch, and EResFD has
   * 250 mostly tiny parameters.
   */
  function updateGroup(members: Member[]): void {
    const names = members.map((e) => e.name);
    const reuse = flatGroup !== null && flatGroup.names.length === names.length && flatGroup.names.every((n, k) => n === names[k]);
    if (!reuse) flushFlat();
    const step = members[0]!.slot.step + 1;
    const [beta1, beta2] = cfg.betas;
    const bc1 = 1 - beta1 ** step;
    const bc2 = 1 - beta2 ** step;
    // float64 like Python; cast to float32 only when they meet a tensor.
    const stepSize = lr / bc1;
    const bc2Sqrt = Math.sqrt(bc2);
    const flat = (ts: tf.Tensor[]) => (ts.length === 1 ? reshapeView(ts[0]!, [ts[0]!.size]) : tf.concat(ts.map((t) => reshapeView(t, [t.size]))));
    const moments = (which: 'm' | 'v', p: tf.Tensor): tf.Tensor =>
      reuse ? flatGroup![which] : step === 1 ? tf.zerosLike(p) : flat(members.map((e) => e.slot[which]!));
    const { m, v, ps } = tf.tidy(() => {
      const p = flat(members.map((e) => e.p));
      const g = flat(members.map((e) => e.g));
      const gEff = cfg.weightDecay !== 0 ? tf.add(g, tf.mul(p, cfg.weightDecay)) : g;
      // exp_avg.mul_(β1).add_(g, alpha=1−β1); exp_avg_sq.mul_(β2).addcmul_(g, g, value=1−β2)
      const mNew = tf.add(tf.mul(moments('m', p), beta1), tf.mul(gEff, 1 - beta1));
      const vNew = tf.add(tf.mul(moments('v', p), beta2), tf.mul(tf.mul(gEff, 1 - beta2), gEff));
      // denom = (v.sqrt() / sqrt(bc2)).add_(eps); p.addcdiv_(m, denom, value=−step_size)
      const denom = tf.add(tf.div(tf.sqrt(vNew), bc2Sqrt), cfg.eps);
      const pNew = tf.add(p, tf.div(tf.mul(mNew, -stepSize), denom));
      const parts = members.length === 1 ? [pNew] : tf.split(pNew, members.map((e) => e.p.size));
      return { m: mNew, v: vNew, ps: parts.map((part, k) => reshapeView(part, members[k]!.p.shape)) };
    });
    if (reuse) tf.dispose([flatGroup!.m, flatGroup!.v]);
    for (const { slot } of members) {
      slot.step = step;
      slot.m?.dispose();
      slot.v?.dispose();
      slot.m = null;
      slot.v = null;
    }
    // keep: the caller may step inside its own tf.tidy, which must not take the moments with it.
    flatGroup = { names, m: tf.keep(m), v: tf.keep(v) };
    members.forEach(({ p }, k) => {
      p.assign(ps[k]!);
      ps[k]!.dispose();
    });
  }

  return {
    get config() {
      return cfg;
    },
    get lr() {
      return lr;
    },
    set lr(value: number) {
      if (!(value >= 0) || !Number.isFinite(value)) throw new RangeError(`Adam: invalid learning rate ${value}`);
      lr = value;
    },
    step(grads: GradMap): void {
      let matched = 0;
      const byStep = new Map<number, Member[]>();
      for (const [name, p] of params) {
        // Keyed by the params-map key, or by the variable's own name as tf.variableGrads returns them.
        const g = gradOf(grads, name) ?? gradOf(grads, p.name);
        if (g == null) continue;
        matched++;
        if (!tf.util.arraysEqual(g.shape, p.shape)) {
          throw new RangeError(`Adam: gradient of ${name} has shape [${g.shape.join(', ')}], parameter [${p.shape.join(', ')}]`);
        }
        const slot = slots.get(name)!;
        const group = byStep.get(slot.step) ?? [];
        group.push({ name, p, g, slot });
        byStep.set(slot.step, group);
      }
      for (const group of byStep.values()) updateGroup(group);
      const given = grads instanceof Map ? grads.size : Object.keys(grads).length;
      // Some gradients but none for any parameter: a key mix-up, not torch's "grad is None".
      if (matched === 0 && given > 0) throw new Error('Adam: none of the gradients belongs to a parameter of this optimiser (check the keys)');
    },
    stepOf(name: string): number {
      return slots.get(name)?.step ?? 0;
    },
    async exportState(): Promise<AdamState> {
      flushFlat();
      const out: AdamState = { config: { ...cfg, lr }, params: {} };
      for (const [name, p] of params) {
        const s = slots.get(name)!;
        const size = p.size;
        const expAvg = s.m ? Float32Array.from(await s.m.data() as Float32Array) : new Float32Array(size);
        const expAvgSq = s.v ? Float32Array.from(await s.v.data() as Float32Array) : new Float32Array(size);
        out.params[name] = { step: s.step, expAvg, expAvgSq };
      }
      return out;
    },
    importState(state: AdamState): void {
      flushFlat();
      for (const [name, p] of params) {
        const s = state.params[name];
        const slot = slots.get(name)!;
        slot.m?.dispose();
        slot.v?.dispose();
        if (!s || s.step === 0) {
          slots.set(name, { step: 0, m: null, v: null });
          continue;
        }
        if (s.expAvg.length !== p.size || s.expAvgSq.length !== p.size) throw new RangeError(`Adam: state of ${name} does not fit its parameter`);
        slots.set(name, { step: s.step, m: tf.keep(tf.tensor(s.expAvg, p.shape)), v: tf.keep(tf.tensor(s.expAvgSq, p.shape)) });
      }
      // Like torch's load_state_dict, the saved hyperparameters replace the constructor's.
      cfg = validateAdamConfig(state.config);
      lr = cfg.lr;
    },
    dispose(): void {
      flushFlat();
      for (const s of slots.values()) {
        s.m?.dispose();
        s.v?.dispose();
        s.m = null;
        s.v = null;
      }
    },
  };
}
