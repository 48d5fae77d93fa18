/**
 * Folding for compaction: BN into each conv (as the dense inference does, eresfd.ts `foldConv`),
 * then the constant of every removed input channel into the consumer that reads it.
 *
 * A removed input channel k with constant c_k adds Σ_{kh,kw} W[o,k,kh,kw]·c_k at every output
 * position whose receptive field lies inside the image. Without padding (1x1 laterals, shortcuts,
 * heads) that is every position: bias += c_k·ΣW. With zero padding the border positions see only
 * the in-bounds taps, so for a padded conv the removed constants become a `border` filter
 * A[kh,kw,o] = Σ_k W[o,k,kh,kw]·c_k that the compacted model convolves once with an all-ones image
 * of the input's size — the exact per-position contribution, a "bias map" cached per input size.
 * Under strategy 'carrier' the tensor instead keeps one constant channel (value c_T, zero-padded like
 * the removed ones), and A·(1/c_T) is added to that channel's taps: exact, and no extra op.
 * Zero constants contribute nothing and need neither.
 */
import type { StateDict } from '../types.ts';
import type { ChannelAnalysis, BorderStrategy } from './channel-dependencies.ts';

export interface CompactConv {
  name: string;
  /** Output unused by the network (only reaches an FPN term with weight 0): not computed. */
  dead: boolean;
  keptIn: number[];
  keptOut: number[];
  /** HWIO [k, k, keptIn.length, keptOut.length], BN folded (empty when dead). */
  filter: Float32Array;
  /** keptOut.length: folded BN bias plus the constants of removed pad-free inputs. */
  bias: Float32Array;
  /** HWIO [k, k, 1, keptOut.length]: removed non-zero constants into a padded conv, or null. */
  border: Float32Array | null;
}

export interface CompactWeights {
  /** Name of the checkpoint the model was compacted from (for the manifest and the UI). */
  source: string;
  strategy: BorderStrategy;
  convs: CompactConv[];
  /** FPN fusion weights `w1` [2, 9], raw (the model turns them into fusion coefficients). */
  w1: Float32Array;
}

export function foldCompaction(stateDict: StateDict, analysis: ChannelAnalysis, source: string): CompactWeights {
  const { graph, folded, constants } = analysis;
  const convs: CompactConv[] = [];
  for (const [name, node] of graph.convs) {
    const spec = node.spec;
    const ch = analysis.convs.get(name)!;
    const { keptIn, keptOut } = ch;
    if (ch.dead) {
      convs.push({ name, dead: true, keptIn, keptOut, filter: new Float32Array(0), bias: new Float32Array(0), border: null });
      continue;
    }
    const f = folded.get(name)!;
    const taps = spec.kernel * spec.kernel;
    const I = spec.inChannels, O = spec.outChannels;
    const nIn = keptIn.length, nOut = keptOut.length;
    const filter = new Float32Array(taps * nIn * nOut);
    for (let t = 0; t < taps; t++) {
      for (let a = 0; a < nIn; a++) {
        for (let b = 0; b < nOut; b++) filter[(t * nIn + a) * nOut + b] = f.filter[(t * I + keptIn[a]!) * O + keptOut[b]!]!;
      }
    }
    const bias = new Float64Array(nOut);
    const border = new Float64Array(taps * nOut);
    let hasBorder = false;
    const kept = new Set(keptIn);
    const cin = constants[node.input]!;
    // A carrier is a kept input channel that is the constant c_T inside the image and 0 in the
    // padding, exactly like each removed constant channel k scaled by c_k / c_T.
    const carrier = spec.pad > 0 ? analysis.carriers[node.input] ?? null : null;
    const carrierPos = carrier === null ? -1 : keptIn.indexOf(carrier);
    if (carrier !== null && carrierPos < 0) throw new Error(`${name}: carrier channel ${carrier} is not kept`);
    const filter64 = Float64Array.from(filter);
    for (let b = 0; b < nOut; b++) bias[b] = f.bias[keptOut[b]!]!;
    for (let i = 0; i < I; i++) {
      if (kept.has(i)) continue;
      const c = cin[i]!;
      if (Number.isNaN(c)) throw new Error(`${name}: removed input channel ${i} is not constant`);
      if (c === 0) continue;
      for (let b = 0; b < nOut; b++) {
        const o = keptOut[b]!;
        for (let t = 0; t < taps; t++) {
          const w = f.filter[(t * I + i) * O + o]!;
          if (w === 0) continue;
          if (spec.pad === 0) bias[b] += w * c;
          else if (carrierPos >= 0) filter64[(t * nIn + carrierPos) * nOut + b] += (w * c) / cin[carrier!]!;
          else {
            border[t * nOut + b] += w * c;
            hasBorder = true;
          }
        }
      }
    }
    if (hasBorder && analysis.strategy === 'keep') throw new Error(`${name}: border constants under strategy 'keep'`);
    filter.set(filter64);
    convs.push({ name, dead: false, keptIn, keptOut, filter, bias: Float32Array.from(bias), border: hasBorder ? Float32Array.from(border) : null });
  }
  return { source, strategy: analysis.strategy, convs, w1: Float32Array.from(stateDict.get('base.m0.layer6.w1')!.data as Float32Array) };
}
