// Fused sparse sampling attention (SSA) for the CPU: forward and backward in one pass over the
// sampling points, without materialising the (b, m, n, p, d) sampled keys and values.
//
// Definition: hs_attention/reference.py. Shape legend: b batch, n tokens on an h x w grid, m heads,
// d features per head, p sampling points. q, k, v are (b, n, m, d) with any strides whose last
// dimension is contiguous (for example views of one packed qkv projection); offsets are
// (b, n, m, p, 2) in token units, (x, y), contiguous in their last two dimensions.
//
// The sampling coordinate is computed with the same floating-point operations as the reference
// (loc = ref + off / w; g = 2 loc - 1; x = ((g + 1) w - 1) / 2, the grid_sample convention), so the
// floor() of a coordinate, and with it the side of a bilinear cell, agrees with the reference even
// at integer coordinates. Build with -ffp-contract=off to keep that true.
//
// Forward saves nothing beyond its inputs: the backward recomputes the P scores of a query from
// the same corner dot products it needs for the location gradient, so the softmax comes for free.

#include <torch/extension.h>

#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace {

// Four bilinear corners of one sampling point: token index (row-major), weight and its derivatives;
// corners outside the grid are flagged invalid and carry weight 0 (zero padding).
template <typename acc_t>
struct Corners {
  bool any;        // at least one corner inside the grid
  bool valid[4];   // corner inside the grid
  int64_t idx[4];
  acc_t wt[4];
  acc_t dwx[4];  // d weight / d x (pixel units)
  acc_t dwy[4];  // d weight / d y
};

template <typename acc_t>
inline void make_corners(acc_t ref_x, acc_t ref_y, acc_t off_x, acc_t off_y, int64_t h, int64_t w,
                         Corners<acc_t>& c) {
  const acc_t W = static_cast<acc_t>(w);
  const acc_t H = static_cast<acc_t>(h);
  const acc_t loc_x = ref_x + off_x / W;
  const acc_t loc_y = ref_y + off_y / H;
  const acc_t g_x = acc_t(2) * loc_x - acc_t(1);
  const acc_t g_y = acc_t(2) * loc_y - acc_t(1);
  const acc_t x = ((g_x + acc_t(1)) * W - acc_t(1)) / acc_t(2);
  const acc_t y = ((g_y + acc_t(1)) * H - acc_t(1)) / acc_t(2);
  c.any = false;
  for (int j = 0; j < 4; ++j) {
    c.valid[j] = false;
    c.idx[j] = 0;
    c.wt[j] = c.dwx[j] = c.dwy[j] = acc_t(0);
  }
  // Entirely outside (this also catches NaN and huge values before any integer conversion). The
  // bounds are inclusive: at x == -1 the corner x0 + 1 == 0 has weight 0 but a non-zero derivative.
  if (!(x >= acc_t(-1) && x <= W && y >= acc_t(-1) && y <= H)) return;
  const acc_t xf = std::floor(x), yf = std::floor(y);
  const int64_t x0 = static_cast<int64_t>(xf), y0 = static_cast<int64_t>(yf);
  const acc_t fx = x - xf, fy = y - yf;
  const acc_t ex = acc_t(1) - fx, ey = acc_t(1) - fy;
  // corners: (x0, y0), (x0 + 1, y0), (x0, y0 + 1), (x0 + 1, y0 + 1)
  const int64_t cx[4] = {x0, x0 + 1, x0, x0 + 1};
  const int64_t cy[4] = {y0, y0, y0 + 1, y0 + 1};
  const acc_t wt[4] = {ex * ey, fx * ey, ex * fy, fx * fy};
  const acc_t dwx[4] = {-ey, ey, -fy, fy};
  const acc_t dwy[4] = {-ex, -fx, ex, fx};
  for (int j = 0; j < 4; ++j) {
    if (cx[j] >= 0 && cx[j] < w && cy[j] >= 0 && cy[j] < h) {
      c.any = c.valid[j] = true;
      c.idx[j] = cy[j] * w + cx[j];
      c.wt[j] = wt[j];
      c.dwx[j] = dwx[j];
      c.dwy[j] = dwy[j];
    }
  }
}

// The four corner rows of a point are processed in one loop over features, with independent
// accumulators (instruction-level parallelism) and one pass over the shared operand.

// out[j] = <a, rows[j]> for the 4 corners.
template <typename scalar_t, typename acc_t>
inline void dot4(const acc_t* __restrict a, const scalar_t* const rows[4], int64_t d, acc_t out[4]) {
  const scalar_t* __restrict r0 = rows[0];
  const scalar_t* __restrict r1 = rows[1];
  const scalar_t* __restrict r2 = rows[2];
  const scalar_t* __restrict r3 = rows[3];
  acc_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
  for (int64_t e = 0; e < d; ++e) {
    const acc_t x = a[e];
    s0 += x * static_cast<acc_t>(r0[e]);
    s1 += x * static_cast<acc_t>(r1[e]);
    s2 += x * static_cast<acc_t>(r2[e]);
    s3 += x * static_cast<acc_t>(r3[e]);
  }
  out[0] = s0;
  out[1] = s1;
  out[2] = s2;
  out[3] = s3;
}

// y += sum_j c[j] rows[j] (a bilinear read of 4 corners, scaled).
template <typename scalar_t, typename acc_t>
inline void gather4(const acc_t c[4], const scalar_t* const rows[4], int64_t d, acc_t* __restrict y) {
  const scalar_t* __restrict r0 = rows[0];
  const scalar_t* __restrict r1 = rows[1];
  const scalar_t* __restrict r2 = rows[2];
  const scalar_t* __restrict r3 = rows[3];
  const acc_t c0 = c[0], c1 = c[1], c2 = c[2], c3 = c[3];
#pragma omp simd
  for (int64_t e = 0; e < d; ++e) {
    y[e] += c0 * static_cast<acc_t>(r0[e]) + c1 * static_cast<acc_t>(r1[e]) +
            c2 * static_cast<acc_t>(r2[e]) + c3 * static_cast<acc_t>(r3[e]);
  }
}

// rows[j] += c[j] x (a bilinear write of 4 corners). The four rows never alias: valid corners are
// distinct tokens, and each invalid corner points to its own scratch row (see Rows).
template <typename acc_t>
inline void scatter4(const acc_t c[4], const acc_t* __restrict x, acc_t* const rows[4], int64_t d) {
  acc_t* __restrict r0 = rows[0];
  acc_t* __restrict r1 = rows[1];
  acc_t* __restrict r2 = rows[2];
  acc_t* __restrict r3 = rows[3];
  const acc_t c0 = c[0], c1 = c[1], c2 = c[2], c3 = c[3];
  for (int64_t e = 0; e < d; ++e) {
    const acc_t xe = x[e];
    r0[e] += c0 * xe;
    r1[e] += c1 * xe;
    r2[e] += c2 * xe;
    r3[e] += c3 * xe;
  }
}

struct Strides {
  int64_t b, n, m;
};

inline Strides strides_of(const at::Tensor& t) { return {t.stride(0), t.stride(1), t.stride(2)}; }

void check_inputs(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& off,
                  const at::Tensor& ref, int64_t h, int64_t w) {
  TORCH_CHECK(q.dim() == 4 && k.sizes() == q.sizes() && v.sizes() == q.sizes(),
              "ssa_cpu: q, k, v must be (b, n, m, d) of one shape");
  TORCH_CHECK(q.stride(3) == 1 && k.stride(3) == 1 && v.stride(3) == 1,
              "ssa_cpu: q, k, v must be contiguous in their last dimension");
  TORCH_CHECK(off.dim() == 5 && off.size(0) == q.size(0) && off.size(1) == q.size(1) &&
                  off.size(2) == q.size(2) && off.size(4) == 2,
              "ssa_cpu: offsets must be (b, n, m, p, 2)");
  TORCH_CHECK(off.stride(4) == 1 && off.stride(3) == 2, "ssa_cpu: offsets must be contiguous in (p, 2)");
  TORCH_CHECK(ref.is_contiguous() && ref.scalar_type() == at::kFloat && ref.size(0) == q.size(1),
              "ssa_cpu: reference points must be contiguous float32 (n, 2)");
  TORCH_CHECK(h * w == q.size(1), "ssa_cpu: h * w must equal n");
  TORCH_CHECK(k.scalar_type() == q.scalar_type() && v.scalar_type() == q.scalar_type() &&
                  off.scalar_type() == q.scalar_type(),
              "ssa_cpu: q, k, v, offsets must share a dtype");
}

// Per-thread scratch: the corner rows of invalid corners point here, so loops need no branches and
// the four rows of a point never alias. Reads see zeros; writes land in a discarded sink.
template <typename scalar_t, typename acc_t>
struct Scratch {
  std::vector<scalar_t> zeros;
  std::vector<acc_t> sink;
  explicit Scratch(int64_t d) : zeros(d, scalar_t(0)), sink(4 * d, acc_t(0)) {}
};

template <typename scalar_t>
void forward_impl(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& off,
                  const at::Tensor& ref, int64_t h, int64_t w, double scale_d, at::Tensor& out) {
  using acc_t = at::opmath_type<scalar_t>;
  const int64_t B = q.size(0), N = q.size(1), M = q.size(2), D = q.size(3), P = off.size(3);
  const Strides sq = strides_of(q), sk = strides_of(k), sv = strides_of(v), so = strides_of(off);
  const Strides sout = strides_of(out);
  const scalar_t* qp = q.data_ptr<scalar_t>();
  const scalar_t* kp = k.data_ptr<scalar_t>();
  const scalar_t* vp = v.data_ptr<scalar_t>();
  const scalar_t* op = off.data_ptr<scalar_t>();
  const float* rp = ref.data_ptr<float>();
  scalar_t* outp = out.data_ptr<scalar_t>();
  const acc_t scale = static_cast<acc_t>(scale_d);

  // One work item per (b, n, m) query row; rows are independent.
  const int64_t rows = B * N * M;
  const int64_t grain = std::max<int64_t>(1, 2048 / std::max<int64_t>(1, P * D / 16));
  at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
    Scratch<scalar_t, acc_t> scratch(D);
    std::vector<acc_t> qv(D), acc(D);
    std::vector<Corners<acc_t>> cs(P);
    std::vector<acc_t> score(P);
    for (int64_t r = begin; r < end; ++r) {
      const int64_t m = r % M;
      const int64_t i = (r / M) % N;
      const int64_t b = r / (M * N);
      const scalar_t* qrow = qp + b * sq.b + i * sq.n + m * sq.m;
      for (int64_t e = 0; e < D; ++e) qv[e] = static_cast<acc_t>(qrow[e]);
      const scalar_t* orow = op + b * so.b + i * so.n + m * so.m;
      const acc_t rx = static_cast<acc_t>(rp[2 * i]), ry = static_cast<acc_t>(rp[2 * i + 1]);
      const scalar_t* kbase = kp + b * sk.b + m * sk.m;
      const scalar_t* vbase = vp + b * sv.b + m * sv.m;
      acc_t smax = -std::numeric_limits<acc_t>::infinity();
      for (int64_t p = 0; p < P; ++p) {
        Corners<acc_t>& c = cs[p];
        make_corners<acc_t>(rx, ry, static_cast<acc_t>(orow[2 * p]), static_cast<acc_t>(orow[2 * p + 1]), h, w, c);
        acc_t s = acc_t(0);
        if (c.any) {
          const scalar_t* krows[4];
          for (int j = 0; j < 4; ++j) krows[j] = c.valid[j] ? kbase + c.idx[j] * sk.n : scratch.zeros.data();
          acc_t dk[4];
          dot4<scalar_t, acc_t>(qv.data(), krows, D, dk);
          s = c.wt[0] * dk[0] + c.wt[1] * dk[1] + c.wt[2] * dk[2] + c.wt[3] * dk[3];
        }
        score[p] = s * scale;
        smax = std::max(smax, score[p]);
      }
      acc_t denom = acc_t(0);
      for (int64_t p = 0; p < P; ++p) {
        score[p] = std::exp(score[p] - smax);
        denom += score[p];
      }
      std::fill(acc.begin(), acc.end(), acc_t(0));
      for (int64_t p = 0; p < P; ++p) {
        const Corners<acc_t>& c = cs[p];
        if (!c.any) continue;
        const acc_t a = score[p] / denom;
        const scalar_t* vrows[4];
        acc_t coef[4];
        for (int j = 0; j < 4; ++j) {
          vrows[j] = c.valid[j] ? vbase + c.idx[j] * sv.n : scratch.zeros.data();
          coef[j] = a * c.wt[j];
        }
        gather4<scalar_t, acc_t>(coef, vrows, D, acc.data());
      }
      scalar_t* orow_out = outp + b * sout.b + i * sout.n + m * sout.m;
      for (int64_t e = 0; e < D; ++e) orow_out[e] = static_cast<scalar_t>(acc[e]);
    }
  });
}

// Backward. Work items are (b, m) pairs: all queries of one pair scatter into the same key/value
// map slice, so a pair belongs to one thread and the scatter needs no atomics.
template <typename scalar_t>
void backward_impl(const at::Tensor& gout, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                   const at::Tensor& off, const at::Tensor& ref, int64_t h, int64_t w, double scale_d,
                   at::Tensor& gq, at::Tensor& gk_acc, at::Tensor& gv_acc, at::Tensor& goff) {
  using acc_t = at::opmath_type<scalar_t>;
  const int64_t B = q.size(0), N = q.size(1), M = q.size(2), D = q.size(3), P = off.size(3);
  const Strides sq = strides_of(q), sk = strides_of(k), sv = strides_of(v), so = strides_of(off);
  const Strides sg = strides_of(gout), sgq = strides_of(gq), sgk = strides_of(gk_acc), sgv = strides_of(gv_acc);
  const Strides sgo = strides_of(goff);
  const scalar_t* qp = q.data_ptr<scalar_t>();
  const scalar_t* kp = k.data_ptr<scalar_t>();
  const scalar_t* vp = v.data_ptr<scalar_t>();
  const scalar_t* op = off.data_ptr<scalar_t>();
  const scalar_t* gp = gout.data_ptr<scalar_t>();
  const float* rp = ref.data_ptr<float>();
  scalar_t* gqp = gq.data_ptr<scalar_t>();
  acc_t* gkp = gk_acc.data_ptr<acc_t>();
  acc_t* gvp = gv_acc.data_ptr<acc_t>();
  scalar_t* gop = goff.data_ptr<scalar_t>();
  const acc_t scale = static_cast<acc_t>(scale_d);

  at::parallel_for(0, B * M, 1, [&](int64_t begin, int64_t end) {
    Scratch<scalar_t, acc_t> scratch(D);
    std::vector<acc_t> qv(D), gv(D), gqv(D);
    std::vector<Corners<acc_t>> cs(P);
    std::vector<acc_t> qk(4 * P), gvdot(4 * P), score(P), ga(P);
    for (int64_t pair = begin; pair < end; ++pair) {
      const int64_t b = pair / M, m = pair % M;
      const scalar_t* kbase = kp + b * sk.b + m * sk.m;
      const scalar_t* vbase = vp + b * sv.b + m * sv.m;
      acc_t* gkbase = gkp + b * sgk.b + m * sgk.m;
      acc_t* gvbase = gvp + b * sgv.b + m * sgv.m;
      for (int64_t i = 0; i < N; ++i) {
        const scalar_t* qrow = qp + b * sq.b + i * sq.n + m * sq.m;
        const scalar_t* grow = gp + b * sg.b + i * sg.n + m * sg.m;
        for (int64_t e = 0; e < D; ++e) {
          qv[e] = static_cast<acc_t>(qrow[e]);
          gv[e] = static_cast<acc_t>(grow[e]);
          gqv[e] = acc_t(0);
        }
        const scalar_t* orow = op + b * so.b + i * so.n + m * so.m;
        const acc_t rx = static_cast<acc_t>(rp[2 * i]), ry = static_cast<acc_t>(rp[2 * i + 1]);
        // Pass 1: corner dot products <q, K[c]> and <gout, V[c]>; scores; softmax.
        acc_t smax = -std::numeric_limits<acc_t>::infinity();
        for (int64_t p = 0; p < P; ++p) {
          Corners<acc_t>& c = cs[p];
          make_corners<acc_t>(rx, ry, static_cast<acc_t>(orow[2 * p]), static_cast<acc_t>(orow[2 * p + 1]), h, w, c);
          acc_t* dk = &qk[4 * p];
          acc_t* dv = &gvdot[4 * p];
          if (c.any) {
            const scalar_t* krows[4];
            const scalar_t* vrows[4];
            for (int j = 0; j < 4; ++j) {
              krows[j] = c.valid[j] ? kbase + c.idx[j] * sk.n : scratch.zeros.data();
              vrows[j] = c.valid[j] ? vbase + c.idx[j] * sv.n : scratch.zeros.data();
            }
            dot4<scalar_t, acc_t>(qv.data(), krows, D, dk);
            dot4<scalar_t, acc_t>(gv.data(), vrows, D, dv);
          } else {
            for (int j = 0; j < 4; ++j) dk[j] = dv[j] = acc_t(0);
          }
          score[p] = (c.wt[0] * dk[0] + c.wt[1] * dk[1] + c.wt[2] * dk[2] + c.wt[3] * dk[3]) * scale;
          ga[p] = c.wt[0] * dv[0] + c.wt[1] * dv[1] + c.wt[2] * dv[2] + c.wt[3] * dv[3];  // d loss / d a_p
          smax = std::max(smax, score[p]);
        }
        acc_t denom = acc_t(0);
        for (int64_t p = 0; p < P; ++p) {
          score[p] = std::exp(score[p] - smax);
          denom += score[p];
        }
        acc_t sum_aga = acc_t(0);
        for (int64_t p = 0; p < P; ++p) {
          score[p] /= denom;  // now the attention weight a_p
          sum_aga += score[p] * ga[p];
        }
        // Pass 2: scatter into grad K / grad V, gather grad q, location gradients.
        scalar_t* gorow = gop + b * sgo.b + i * sgo.n + m * sgo.m;
        for (int64_t p = 0; p < P; ++p) {
          const Corners<acc_t>& c = cs[p];
          const acc_t a = score[p];
          const acc_t gs = a * (ga[p] - sum_aga) * scale;  // d loss / d <q, K(loc)>
          acc_t gx = acc_t(0), gy = acc_t(0);
          for (int j = 0; j < 4; ++j) {
            const acc_t t = gs * qk[4 * p + j] + a * gvdot[4 * p + j];
            gx += c.dwx[j] * t;
            gy += c.dwy[j] * t;
          }
          // x = ((2 (ref + off / W) - 1 + 1) W - 1) / 2, so dx / doff = 1.
          gorow[2 * p] = static_cast<scalar_t>(gx);
          gorow[2 * p + 1] = static_cast<scalar_t>(gy);
          if (!c.any) continue;
          const scalar_t* krows[4];
          acc_t* gkrows[4];
          acc_t* gvrows[4];
          acc_t ck[4], cv[4];
          for (int j = 0; j < 4; ++j) {
            krows[j] = c.valid[j] ? kbase + c.idx[j] * sk.n : scratch.zeros.data();
            gkrows[j] = c.valid[j] ? gkbase + c.idx[j] * sgk.n : scratch.sink.data() + j * D;
            gvrows[j] = c.valid[j] ? gvbase + c.idx[j] * sgv.n : scratch.sink.data() + j * D;
            ck[j] = gs * c.wt[j];
            cv[j] = a * c.wt[j];
          }
          gather4<scalar_t, acc_t>(ck, krows, D, gqv.data());
          scatter4<acc_t>(ck, qv.data(), gkrows, D);
          scatter4<acc_t>(cv, gv.data(), gvrows, D);
        }
        scalar_t* gqrow = gqp + b * sgq.b + i * sgq.n + m * sgq.m;
        for (int64_t e = 0; e < D; ++e) gqrow[e] = static_cast<scalar_t>(gqv[e]);
      }
    }
  });
}

at::Tensor ssa_forward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& off,
                       const at::Tensor& ref, int64_t h, int64_t w, double scale) {
  check_inputs(q, k, v, off, ref, h, w);
  at::Tensor out = at::empty(q.sizes(), q.options());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, q.scalar_type(), "ssa_forward_cpu", [&] {
    forward_impl<scalar_t>(q, k, v, off, ref, h, w, scale, out);
  });
  return out;
}

std::vector<at::Tensor> ssa_backward(const at::Tensor& gout_in, const at::Tensor& q, const at::Tensor& k,
                                     const at::Tensor& v, const at::Tensor& off, const at::Tensor& ref, int64_t h,
                                     int64_t w, double scale) {
  check_inputs(q, k, v, off, ref, h, w);
  const at::Tensor gout = gout_in.stride(3) == 1 ? gout_in : gout_in.contiguous();
  TORCH_CHECK(gout.sizes() == q.sizes() && gout.scalar_type() == q.scalar_type(),
              "ssa_cpu: grad_out must match q");
  const auto acc_dtype = at::toOpMathType(q.scalar_type());
  at::Tensor gq = at::empty(q.sizes(), q.options());
  at::Tensor gk = at::zeros(q.sizes(), q.options().dtype(acc_dtype));
  at::Tensor gv = at::zeros(q.sizes(), q.options().dtype(acc_dtype));
  at::Tensor goff = at::empty(off.sizes(), off.options());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, q.scalar_type(), "ssa_backward_cpu", [&] {
    backward_impl<scalar_t>(gout, q, k, v, off, ref, h, w, scale, gq, gk, gv, goff);
  });
  if (acc_dtype != q.scalar_type()) {
    gk = gk.to(q.scalar_type());
    gv = gv.to(q.scalar_type());
  }
  return {gq, gk, gv, goff};
}

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, mod) {
  mod.def("forward", &ssa_forward, "SSA forward (CPU)");
  mod.def("backward", &ssa_backward, "SSA backward (CPU)");
}
