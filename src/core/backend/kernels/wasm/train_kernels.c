// Direct WASM-SIMD training kernels — conv filter and input gradients, train-mode BatchNorm — compiled
// against the TF.js WASM backend's own memory (imported), so they read tensors where TF.js keeps them.
// Why not XNNPACK: as a GEMM the reduction runs over B·OH·OW (10⁵–10⁶) with only Ci×Co = 16×16
// outputs per tap, which XNNPACK streams from memory once per tile (memory-bound, ~19 GFLOP/s on
// [8,160,160,16] 3×3); here a dy row stays in L1 while every tap and input channel reads it.
// Build: scripts/build-wasm-kernels.sh (clang --target=wasm32 -msimd128).
#include <wasm_simd128.h>

// acc[j][v] += x[ox, ci+j] * dy[ox, co+4v] over one output row, for CI_B input and CO_V×4 output channels.
#define ROW_KERNEL(NAME, CI_B, CO_V)                                                                    \
  static void NAME(const float *xp, int xStep, const float *dyp, int Co, int n, float *dw, int dwStride) { \
    v128_t acc[CI_B][CO_V];                                                                             \
    for (int j = 0; j < CI_B; j++)                                                                      \
      for (int v = 0; v < CO_V; v++) acc[j][v] = wasm_v128_load(dw + j * dwStride + 4 * v);             \
    for (int i = 0; i < n; i++) {                                                                       \
      v128_t d[CO_V];                                                                                   \
      for (int v = 0; v < CO_V; v++) d[v] = wasm_v128_load(dyp + 4 * v);                                \
      for (int j = 0; j < CI_B; j++) {                                                                  \
        v128_t s = wasm_v128_load32_splat(xp + j);                                                      \
        for (int v = 0; v < CO_V; v++) acc[j][v] = wasm_f32x4_add(acc[j][v], wasm_f32x4_mul(s, d[v]));  \
      }                                                                                                 \
      xp += xStep;                                                                                      \
      dyp += Co;                                                                                        \
    }                                                                                                   \
    for (int j = 0; j < CI_B; j++)                                                                      \
      for (int v = 0; v < CO_V; v++) wasm_v128_store(dw + j * dwStride + 4 * v, acc[j][v]);             \
  }

ROW_KERNEL(row_2x4, 2, 4)
ROW_KERNEL(row_1x4, 1, 4)
ROW_KERNEL(row_4x2, 4, 2)
ROW_KERNEL(row_1x2, 1, 2)
ROW_KERNEL(row_8x1, 8, 1)
ROW_KERNEL(row_1x1, 1, 1)

static inline int max_i(int a, int b) { return a > b ? a : b; }
static inline int min_i(int a, int b) { return a < b ? a : b; }
static inline int ceil_div(int a, int b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

// dw[KH][KW][Ci][Co] = Σ_{b,oy,ox} x[b][oy·sh+kh−pt][ox·sw+kw−pl][ci] · dy[b][oy][ox][co]; zero padding.
// Requires Co % 4 == 0 (v128 loads need no alignment). Overwrites dw. No stack, no
// globals, no data: the module owns no memory of its own and touches only x, dy and dw.
__attribute__((export_name("conv_filter_grad")))
void conv_filter_grad(const float *x, const float *dy, float *dw, int B, int H, int W, int Ci, int OH, int OW, int Co,
                      int KH, int KW, int sh, int sw, int pt, int pl) {
  for (int i = 0, n = KH * KW * Ci * Co; i < n; i++) dw[i] = 0.0f;
  const int xStep = sw * Ci;
  for (int b = 0; b < B; b++) {
    for (int oy = 0; oy < OH; oy++) {
      const float *dyRow = dy + ((long)(b * OH + oy) * OW) * Co;
      for (int kh = 0; kh < KH; kh++) {
        const int iy = oy * sh + kh - pt;
        if (iy < 0 || iy >= H) continue;
        const float *xRow = x + ((long)(b * H + iy) * W) * Ci;
        for (int kw = 0; kw < KW; kw++) {
          // Output columns whose input column ox·sw + kw − pl lies inside [0, W).
          const int ox0 = max_i(0, ceil_div(pl - kw, sw));
          const int ox1 = min_i(OW, ceil_div(W + pl - kw, sw));
          if (ox1 <= ox0) continue;
          const int n = ox1 - ox0;
          const float *xp0 = xRow + (ox0 * sw + kw - pl) * Ci;
          const float *dyp0 = dyRow + ox0 * Co;
          float *dwTap = dw + (kh * KW + kw) * Ci * Co;
          for (int co = 0; co < Co;) {
            const int left = Co - co;
            int ci = 0;
            if (left >= 16) {
              for (; ci + 2 <= Ci; ci += 2) row_2x4(xp0 + ci, xStep, dyp0 + co, Co, n, dwTap + ci * Co + co, Co);
              for (; ci < Ci; ci++) row_1x4(xp0 + ci, xStep, dyp0 + co, Co, n, dwTap + ci * Co + co, Co);
              co += 16;
            } else if (left >= 8) {
              for (; ci + 4 <= Ci; ci += 4) row_4x2(xp0 + ci, xStep, dyp0 + co, Co, n, dwTap + ci * Co + co, Co);
              for (; ci < Ci; ci++) row_1x2(xp0 + ci, xStep, dyp0 + co, Co, n, dwTap + ci * Co + co, Co);
              co += 8;
            } else {
              for (; ci + 8 <= Ci; ci += 8) row_8x1(xp0 + ci, xStep, dyp0 + co, Co, n, dwTap + ci * Co + co, Co);
              for (; ci < Ci; ci++) row_1x1(xp0 + ci, xStep, dyp0 + co, Co, n, dwTap + ci * Co + co, Co);
              co += 4;
            }
          }
        }
      }
    }
  }
}

// dx[p][ci..] += Σ_co dy[p][co] · wt[co][ci..] for PIX pixels of one tap (dx pixels xStep apart, dy
// pixels Co apart), CI_V×4 input channels; wt is the tap's [Co][Ci] block.
#define DX_KERNEL(NAME, PIX, CI_V)                                                                      \
  static void NAME(float *dxp, int xStep, const float *dyp, int Co, const float *wt, int Ci) {          \
    v128_t acc[PIX][CI_V];                                                                              \
    for (int p = 0; p < PIX; p++)                                                                       \
      for (int v = 0; v < CI_V; v++) acc[p][v] = wasm_v128_load(dxp + p * xStep + 4 * v);               \
    for (int co = 0; co < Co; co++) {                                                                   \
      v128_t w[CI_V];                                                                                   \
      for (int v = 0; v < CI_V; v++) w[v] = wasm_v128_load(wt + co * Ci + 4 * v);                       \
      for (int p = 0; p < PIX; p++) {                                                                   \
        v128_t s = wasm_v128_load32_splat(dyp + p * Co + co);                                           \
        for (int v = 0; v < CI_V; v++) acc[p][v] = wasm_f32x4_add(acc[p][v], wasm_f32x4_mul(s, w[v]));  \
      }                                                                                                 \
    }                                                                                                   \
    for (int p = 0; p < PIX; p++)                                                                       \
      for (int v = 0; v < CI_V; v++) wasm_v128_store(dxp + p * xStep + 4 * v, acc[p][v]);               \
  }

DX_KERNEL(dx_2x4, 2, 4)
DX_KERNEL(dx_1x4, 1, 4)
DX_KERNEL(dx_4x2, 4, 2)
DX_KERNEL(dx_1x2, 1, 2)
DX_KERNEL(dx_8x1, 8, 1)
DX_KERNEL(dx_1x1, 1, 1)

// dx[B][H][W][Ci] = Σ_{kh,kw} dy[b][oy][ox][co] · w[kh][kw][ci][co] over oy·sh+kh−pt = iy, ox·sw+kw−pl = ix
// (the input gradient of the convolution above), with wt = w as [KH][KW][Co][Ci]. Requires Ci % 4 == 0.
// Overwrites dx. Row by row: a dx row (and the dy rows it reads) stays in L1 across its taps.
__attribute__((export_name("conv_input_grad")))
void conv_input_grad(const float *dy, const float *wt, float *dx, int B, int H, int W, int Ci, int OH, int OW, int Co,
                     int KH, int KW, int sh, int sw, int pt, int pl) {
  for (int i = 0, n = B * H * W * Ci; i < n; i++) dx[i] = 0.0f;
  const int xStep = sw * Ci;
  for (int b = 0; b < B; b++) {
    for (int iy = 0; iy < H; iy++) {
      float *dxRow = dx + ((long)(b * H + iy) * W) * Ci;
      for (int kh = 0; kh < KH; kh++) {
        const int t = iy + pt - kh;
        if (t < 0 || t % sh != 0) continue;
        const int oy = t / sh;
        if (oy >= OH) continue;
        const float *dyRow = dy + ((long)(b * OH + oy) * OW) * Co;
        for (int kw = 0; kw < KW; kw++) {
          const int ox0 = max_i(0, ceil_div(pl - kw, sw));
          const int ox1 = min_i(OW, ceil_div(W + pl - kw, sw));
          if (ox1 <= ox0) continue;
          const float *wTap = wt + (kh * KW + kw) * Co * Ci;
          for (int ci = 0; ci < Ci;) {
            const int left = Ci - ci;
            float *dxp = dxRow + (ox0 * sw + kw - pl) * Ci + ci;
            const float *dyp = dyRow + ox0 * Co;
            const float *w = wTap + ci;
            int n = ox1 - ox0;
            if (left >= 16) {
              for (; n >= 2; n -= 2, dxp += 2 * xStep, dyp += 2 * Co) dx_2x4(dxp, xStep, dyp, Co, w, Ci);
              if (n) dx_1x4(dxp, xStep, dyp, Co, w, Ci);
              ci += 16;
            } else if (left >= 8) {
              for (; n >= 4; n -= 4, dxp += 4 * xStep, dyp += 4 * Co) dx_4x2(dxp, xStep, dyp, Co, w, Ci);
              for (; n > 0; n--, dxp += xStep, dyp += Co) dx_1x2(dxp, xStep, dyp, Co, w, Ci);
              ci += 8;
            } else {
              for (; n >= 8; n -= 8, dxp += 8 * xStep, dyp += 8 * Co) dx_8x1(dxp, xStep, dyp, Co, w, Ci);
              for (; n > 0; n--, dxp += xStep, dyp += Co) dx_1x1(dxp, xStep, dyp, Co, w, Ci);
              ci += 4;
            }
          }
        }
      }
    }
  }
}

static inline float lane(v128_t v, int l) {
  switch (l) {
    case 0: return wasm_f32x4_extract_lane(v, 0);
    case 1: return wasm_f32x4_extract_lane(v, 1);
    case 2: return wasm_f32x4_extract_lane(v, 2);
    default: return wasm_f32x4_extract_lane(v, 3);
  }
}

// Train-mode BatchNorm (+ ReLU) over an NHWC map seen as M rows of C channels (C % 4 == 0), in
// channel blocks of 16/8/4 so one pass reads each row once. Sums run in float32 vectors over 64
// rows, then in float64: the mean of 10⁶ values keeps ~1e-7 relative error.
//
// bn_sums, mode 0: out[c] = Σ x                       (for μ)
//          mode 1: out[c] = Σ (x − μ)²                (for σ²)
//          mode 2: out[c] = Σ g, out[C + c] = Σ g·(x − μ), g = dy · [relu ? (x − μ)·s + β > 0 : 1]
// out is 2C doubles (mode 2) or C doubles. mean/scale/shift are [C] floats.
#define BN_SUMS(NAME, CV)                                                                               \
  static void NAME(const float *x, const float *dy, int M, int C, int c0, const float *mean,            \
                   const float *scale, const float *shift, int mode, int relu, double *out) {           \
    v128_t mu[CV], sc[CV], sh[CV];                                                                      \
    for (int v = 0; v < CV; v++) {                                                                      \
      mu[v] = mode ? wasm_v128_load(mean + c0 + 4 * v) : wasm_f32x4_splat(0.0f);                        \
      sc[v] = mode == 2 ? wasm_v128_load(scale + c0 + 4 * v) : mu[v];                                   \
      sh[v] = mode == 2 ? wasm_v128_load(shift + c0 + 4 * v) : mu[v];                                   \
    }                                                                                                   \
    for (int r0 = 0; r0 < M; r0 += 64) {                                                                \
      const int r1 = min_i(M, r0 + 64);                                                                 \
      v128_t a[CV], b[CV];                                                                              \
      for (int v = 0; v < CV; v++) a[v] = b[v] = wasm_f32x4_splat(0.0f);                               \
      for (int r = r0; r < r1; r++) {                                                                   \
        const float *xr = x + (long)r * C + c0;                                                         \
        for (int v = 0; v < CV; v++) {                                                                  \
          v128_t xv = wasm_v128_load(xr + 4 * v);                                                       \
          if (mode == 0) {                                                                              \
            a[v] = wasm_f32x4_add(a[v], xv);                                                            \
          } else {                                                                                      \
            v128_t xc = wasm_f32x4_sub(xv, mu[v]);                                                      \
            if (mode == 1) {                                                                            \
              a[v] = wasm_f32x4_add(a[v], wasm_f32x4_mul(xc, xc));                                      \
            } else {                                                                                    \
              v128_t g = wasm_v128_load(dy + (long)r * C + c0 + 4 * v);                                 \
              if (relu) {                                                                               \
                v128_t y = wasm_f32x4_add(wasm_f32x4_mul(xc, sc[v]), sh[v]);                            \
                g = wasm_v128_and(g, wasm_f32x4_gt(y, wasm_f32x4_splat(0.0f)));                         \
              }                                                                                         \
              a[v] = wasm_f32x4_add(a[v], g);                                                           \
              b[v] = wasm_f32x4_add(b[v], wasm_f32x4_mul(g, xc));                                       \
            }                                                                                           \
          }                                                                                             \
        }                                                                                               \
      }                                                                                                 \
      for (int v = 0; v < CV; v++) {                                                                    \
        for (int l = 0; l < 4; l++) {                                                                   \
          out[c0 + 4 * v + l] += (double)lane(a[v], l);                                                 \
          if (mode == 2) out[C + c0 + 4 * v + l] += (double)lane(b[v], l);                              \
        }                                                                                               \
      }                                                                                                 \
    }                                                                                                   \
  }

BN_SUMS(bn_sums_4, 4)
BN_SUMS(bn_sums_2, 2)
BN_SUMS(bn_sums_1, 1)

__attribute__((export_name("bn_sums")))
void bn_sums(const float *x, const float *dy, int M, int C, const float *mean, const float *scale, const float *shift,
             int mode, int relu, double *out) {
  for (int i = 0, n = mode == 2 ? 2 * C : C; i < n; i++) out[i] = 0.0;
  for (int c0 = 0; c0 < C;) {
    const int left = C - c0;
    if (left >= 16) { bn_sums_4(x, dy, M, C, c0, mean, scale, shift, mode, relu, out); c0 += 16; }
    else if (left >= 8) { bn_sums_2(x, dy, M, C, c0, mean, scale, shift, mode, relu, out); c0 += 8; }
    else { bn_sums_1(x, dy, M, C, c0, mean, scale, shift, mode, relu, out); c0 += 4; }
  }
}

// bn_map, mode 0 (forward):  out = act((x − μ)·a + b)
//         mode 1 (backward): out = a·g + b + k·(x − μ), g = dy · [relu ? (x − μ)·s + β > 0 : 1]
// a, b, k, s, β: [C] floats (k, s, β read in mode 1 only).
#define BN_MAP(NAME, CV)                                                                                \
  static void NAME(const float *x, const float *dy, int M, int C, int c0, const float *mean,            \
                   const float *pa, const float *pb, const float *pk, const float *ps, const float *pbeta, \
                   int mode, int relu, float *out) {                                                    \
    v128_t mu[CV], a[CV], b[CV], k[CV], s[CV], be[CV];                                                  \
    const v128_t zero = wasm_f32x4_splat(0.0f);                                                         \
    for (int v = 0; v < CV; v++) {                                                                      \
      const int c = c0 + 4 * v;                                                                         \
      mu[v] = wasm_v128_load(mean + c);                                                                 \
      a[v] = wasm_v128_load(pa + c);                                                                    \
      b[v] = wasm_v128_load(pb + c);                                                                    \
      k[v] = mode ? wasm_v128_load(pk + c) : zero;                                                      \
      s[v] = mode ? wasm_v128_load(ps + c) : zero;                                                      \
      be[v] = mode ? wasm_v128_load(pbeta + c) : zero;                                                  \
    }                                                                                                   \
    for (int r = 0; r < M; r++) {                                                                       \
      const long o = (long)r * C + c0;                                                                  \
      for (int v = 0; v < CV; v++) {                                                                    \
        v128_t xc = wasm_f32x4_sub(wasm_v128_load(x + o + 4 * v), mu[v]);                               \
        v128_t y;                                                                                       \
        if (mode == 0) {                                                                                \
          y = wasm_f32x4_add(wasm_f32x4_mul(xc, a[v]), b[v]);                                           \
          if (relu) y = wasm_f32x4_max(y, zero);                                                        \
        } else {                                                                                        \
          v128_t g = wasm_v128_load(dy + o + 4 * v);                                                    \
          if (relu) {                                                                                   \
            v128_t fy = wasm_f32x4_add(wasm_f32x4_mul(xc, s[v]), be[v]);                                \
            g = wasm_v128_and(g, wasm_f32x4_gt(fy, zero));                                              \
          }                                                                                             \
          y = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(a[v], g), b[v]), wasm_f32x4_mul(k[v], xc));  \
        }                                                                                               \
        wasm_v128_store(out + o + 4 * v, y);                                                            \
      }                                                                                                 \
    }                                                                                                   \
  }

BN_MAP(bn_map_4, 4)
BN_MAP(bn_map_2, 2)
BN_MAP(bn_map_1, 1)

__attribute__((export_name("bn_map")))
void bn_map(const float *x, const float *dy, int M, int C, const float *mean, const float *a, const float *b,
            const float *k, const float *s, const float *beta, int mode, int relu, float *out) {
  for (int c0 = 0; c0 < C;) {
    const int left = C - c0;
    if (left >= 16) { bn_map_4(x, dy, M, C, c0, mean, a, b, k, s, beta, mode, relu, out); c0 += 16; }
    else if (left >= 8) { bn_map_2(x, dy, M, C, c0, mean, a, b, k, s, beta, mode, relu, out); c0 += 8; }
    else { bn_map_1(x, dy, M, C, c0, mean, a, b, k, s, beta, mode, relu, out); c0 += 4; }
  }
}
