/**
 * EResFD constants as B-FPGM uses them (`data/config.py`, `eresfd_16.py`; SPEC §1.1, §5, §6.1).
 */

/** Per-channel RGB mean subtracted from the 0..255 input; no scaling (SPEC §1.7). */
export const INPUT_MEAN_RGB = [123, 117, 104] as const;

export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

/** FPN fusion epsilon (`FullySepFPN`, SPEC §1.4). */
export const FPN_EPS = 1e-4;

/** Prior steps and sizes per level; level 5 is a stride-64 map with step-128 priors (SPEC §5 quirk). */
export const PRIOR_STEPS = [4, 8, 16, 32, 64, 128] as const;
export const PRIOR_MIN_SIZES = [16, 32, 64, 128, 256, 512] as const;
export const PRIOR_VARIANCE = [0.1, 0.2] as const;

export const NUM_LEVELS = 6;

/** `Detect` (SPEC §6.1). */
export const DETECT_DEFAULTS = {
  confThresh: 0.05,
  nmsTopK: 5000,
  nmsThresh: 0.3,
  topK: 750,
} as const;

/** Single-pass protocol of `wider_test.py` (SPEC §6.2): shrink = min(1, sqrt(1700·1200/(H·W))). */
export const WIDER_MAX_PIXELS = 1700 * 1200;
