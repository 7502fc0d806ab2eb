"""Triton kernels of sparse sampling attention (SSA): forward and backward.

Imported only by :mod:`hs_attention.backends.triton_ssa`, lazily, on first use: Triton reads
``TRITON_INTERPRET`` when a kernel is decorated, so decorating at package import would freeze the
mode too early, and ``hs_attention`` must import without Triton (an optional extra). Without Triton
this module imports but defines no kernels (``AVAILABLE`` is False).

Definition of the op: :mod:`hs_attention.reference`. Shape legend: ``b`` batch, ``n`` tokens on an
``h × w`` grid (row-major), ``m`` heads, ``d`` features per head, ``p`` sampling points.

Layout of the work: the ``b·n·m`` query rows are numbered ``(b, n, m)`` row-major (heads fastest)
and each program takes ``BLOCK_Q`` consecutive rows, i.e. all heads of a few neighbouring tokens.
It holds their ``d`` features as a ``BLOCK_Q × BLOCK_D`` tile and loops over the ``p`` points;
each point reads the four bilinear corner rows of K (and V) of every query row as gathered
``BLOCK_Q × BLOCK_D`` tiles (each row ``d`` contiguous features: coalesced, vectorised loads when
the strides are multiples of 16, as those of a packed ``qkv`` projection are). Per-point scalars
(scores, the pieces of the location gradient) live in ``BLOCK_Q × BLOCK_P`` tiles, so the softmax
over the points is an exact two-pass softmax, as in the reference and the CPU kernel. Nothing of
size ``(b, n, m, p, d)`` is ever written. Consecutive programs hold neighbouring tokens, whose
sampling points read largely the same key and value rows, so those reads are served from L2.
Addresses are computed in int64 (no overflow on large grids or batches).

Numerics (as ``csrc/ssa_cpu.cpp``): everything is computed in the compute dtype (float32 for half
inputs, else the input dtype). The sampling coordinate uses the reference's operations in the
reference's order, ``x = ((2·(ref + off / w) − 1 + 1)·w − 1) / 2``, with IEEE division (``/`` on
float32 is approximate on NVIDIA GPUs; ``/ 2`` is written ``· 0.5``, which is identical) and with
floating-point contraction disabled at launch (``enable_fp_fusion=False``), so ``floor(x)`` and
with it the bilinear cell agree with the reference even at integer coordinates. A point is wholly
outside unless ``−1 ≤ x ≤ w`` and ``−1 ≤ y ≤ h`` (false for NaN and ±Inf too); its coordinate is
replaced by 0 before any integer conversion and all four corners are masked, so it reads zeros,
scores 0 and gets a zero gradient, never NaN.

The backward recomputes the scores (no saved ``(b, n, m, p)`` or larger tensors): pass 1 over the
points reads the K and V corners and forms the scores, ``dL/da`` and the location-gradient pieces;
the softmax and the offset gradient follow on the ``BLOCK_Q × BLOCK_P`` tiles; pass 2 re-reads the K
corners for ``dL/dq`` and scatters ``dL/dK`` and ``dL/dV`` with atomic adds into accumulators of the
compute dtype (so the summation order, and the last bits of those two gradients, vary from run to
run on a GPU).
"""
# Triton kernels take untyped arguments: annotations other than ``tl.constexpr`` change how Triton
# specialises them, so this module alone is exempt from the annotation rule.
# mypy: disable-error-code="no-untyped-def"

IMPORT_ERROR = None
try:
    import triton
    import triton.language as tl
except ImportError as exc:  # the optional extra is missing: triton_ssa reports the backend unavailable
    IMPORT_ERROR = f"{type(exc).__name__}: {exc}"
AVAILABLE = IMPORT_ERROR is None

if AVAILABLE:

    @triton.jit
    def _pixel(ref, off, size_f, F64: tl.constexpr):
        """Pixel coordinate of a sampling point, the reference's operations in its order."""
        if F64:
            loc = ref + off / size_f  # float64 division is IEEE (div.rn.f64)
        else:
            loc = ref + tl.math.div_rn(off, size_f)  # float32 `/` is div.full, off by up to 2 ulp
        g = 2.0 * loc - 1.0
        return ((g + 1.0) * size_f - 1.0) * 0.5

    @triton.jit
    def _corners(off_row_ptr, so_c, rx, ry, qmask, W, H, w_f, h_f, F64: tl.constexpr):
        """The bilinear cell of one point per query.

        Returns the row index of the top-left corner (int64; meaningless where masked), the four
        corner masks (top-left, top-right, bottom-left, bottom-right), the fractional parts
        ``fx, fy`` and their complements ``ex = x0 + 1 − x, ey = y0 + 1 − y`` (grid_sample's
        weights). A point wholly outside gets coordinate 0 (finite weights) and four false masks.
        """
        ox = tl.load(off_row_ptr, mask=qmask, other=0.0).to(rx.dtype)
        oy = tl.load(off_row_ptr + so_c, mask=qmask, other=0.0).to(rx.dtype)
        x = _pixel(rx, ox, w_f, F64)
        y = _pixel(ry, oy, h_f, F64)
        inside = (x >= -1.0) & (x <= w_f) & (y >= -1.0) & (y <= h_f) & qmask
        x = tl.where(inside, x, 0.0)
        y = tl.where(inside, y, 0.0)
        xf = tl.floor(x)
        yf = tl.floor(y)
        x0 = xf.to(tl.int32)
        y0 = yf.to(tl.int32)
        fx = x - xf
        fy = y - yf
        ex = (xf + 1.0) - x
        ey = (yf + 1.0) - y
        cx0 = inside & (x0 >= 0) & (x0 < W)
        cx1 = inside & (x0 >= -1) & (x0 < W - 1)
        cy0 = (y0 >= 0) & (y0 < H)
        cy1 = (y0 >= -1) & (y0 < H - 1)
        idx = y0.to(tl.int64) * W + x0
        return idx, cx0 & cy0, cx1 & cy0, cx0 & cy1, cx1 & cy1, fx, fy, ex, ey

    @triton.jit
    def _rows(base_ptr, idx, stride_n, W, offs_d, dmask, m00, m01, m10, m11):
        """The four corner rows (``BLOCK_Q × BLOCK_D`` each) of a map, zeros where masked.

        ``base_ptr`` is a ``BLOCK_Q`` vector of pointers to token 0 of each query's ``(b, m)`` map.
        """
        p00 = base_ptr[:, None] + idx[:, None] * stride_n + offs_d[None, :]
        p10 = base_ptr[:, None] + (idx + W)[:, None] * stride_n + offs_d[None, :]
        r00 = tl.load(p00, mask=m00[:, None] & dmask[None, :], other=0.0)
        r01 = tl.load(p00 + stride_n, mask=m01[:, None] & dmask[None, :], other=0.0)
        r10 = tl.load(p10, mask=m10[:, None] & dmask[None, :], other=0.0)
        r11 = tl.load(p10 + stride_n, mask=m11[:, None] & dmask[None, :], other=0.0)
        return r00, r01, r10, r11

    @triton.jit
    def _column(tile, cols, j):
        """Column ``j`` of a ``BLOCK_Q × BLOCK_P`` tile."""
        return tl.sum(tl.where(cols[None, :] == j, tile, 0.0), axis=1)

    @triton.jit
    def _put(tile, cols, j, value):
        """``tile`` with column ``j`` replaced by ``value``."""
        return tl.where(cols[None, :] == j, value[:, None], tile)

    @triton.jit
    def _scalars(scale_bits, W, H, F64: tl.constexpr):
        """``scale, w, h`` in the compute dtype (float64 if ``F64`` else float32), which is thereby
        the dtype of all the math. The scale arrives as the bits of a float64 (a float argument
        would reach the kernel as float32, too coarse for float64 inputs)."""
        scale = scale_bits.to(tl.int64).to(tl.float64, bitcast=True)
        if not F64:
            scale = scale.to(tl.float32)
        return scale, W.to(scale.dtype), H.to(scale.dtype)

    @triton.jit
    def _query_rows(R, N, M, BLOCK_Q: tl.constexpr):
        """This program's query rows: flat indices into ``(b, n, m)``, heads fastest, as int64
        ``b, i (token), m`` plus the validity mask."""
        r = tl.program_id(0).to(tl.int64) * BLOCK_Q + tl.arange(0, BLOCK_Q)
        valid = r < R
        r = tl.where(valid, r, 0)
        m = r % M
        i = (r // M) % N
        b = r // (M * N)
        return b, i, m, valid

    @triton.jit(do_not_specialize=["scale_bits", "H", "W"])
    def ssa_fwd_kernel(
        q_ptr, k_ptr, v_ptr, off_ptr, ref_ptr, out_ptr, scale_bits: tl.int64,
        R, N, M, P, D, H, W,
        sq_b, sq_n, sq_m, sk_b, sk_n, sk_m, sv_b, sv_n, sv_m,
        so_b, so_n, so_m, so_p, so_c,
        sout_b, sout_n, sout_m,
        BLOCK_Q: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_P: tl.constexpr, F64: tl.constexpr,
    ):  # fmt: skip
        scale, w_f, h_f = _scalars(scale_bits, W, H, F64)
        b, i, m, qmask = _query_rows(R, N, M, BLOCK_Q)
        offs_d = tl.arange(0, BLOCK_D)
        dmask = offs_d < D
        cols = tl.arange(0, BLOCK_P)
        tile_mask = qmask[:, None] & dmask[None, :]

        q_rows = q_ptr + b * sq_b + i * sq_n + m * sq_m
        q_tile = tl.load(q_rows[:, None] + offs_d[None, :], mask=tile_mask, other=0.0).to(scale.dtype)
        rx = tl.load(ref_ptr + 2 * i, mask=qmask, other=0.0).to(scale.dtype)
        ry = tl.load(ref_ptr + 2 * i + 1, mask=qmask, other=0.0).to(scale.dtype)
        off_rows = off_ptr + b * so_b + i * so_n + m * so_m
        k_maps = k_ptr + b * sk_b + m * sk_m
        v_maps = v_ptr + b * sv_b + m * sv_m

        # pass 1: scores, one column per point
        scores = tl.zeros((BLOCK_Q, BLOCK_P), dtype=scale.dtype)
        for j in range(P):
            idx, m00, m01, m10, m11, fx, fy, ex, ey = _corners(
                off_rows + j * so_p, so_c, rx, ry, qmask, W, H, w_f, h_f, F64
            )
            k00, k01, k10, k11 = _rows(k_maps, idx, sk_n, W, offs_d, dmask, m00, m01, m10, m11)
            sampled = (
                (ex * ey)[:, None] * k00.to(scale.dtype)
                + (fx * ey)[:, None] * k01.to(scale.dtype)
                + (ex * fy)[:, None] * k10.to(scale.dtype)
                + (fx * fy)[:, None] * k11.to(scale.dtype)
            )
            scores = _put(scores, cols, j, tl.sum(q_tile * sampled, axis=1) * scale)

        scores = tl.where(cols[None, :] < P, scores, float("-inf"))
        e = tl.exp(scores - tl.max(scores, axis=1)[:, None])
        attn = e / tl.sum(e, axis=1)[:, None]

        # pass 2: the attention-weighted bilinear reads of V
        acc = tl.zeros((BLOCK_Q, BLOCK_D), dtype=scale.dtype)
        for j in range(P):
            a = _column(attn, cols, j)
            idx, m00, m01, m10, m11, fx, fy, ex, ey = _corners(
                off_rows + j * so_p, so_c, rx, ry, qmask, W, H, w_f, h_f, F64
            )
            v00, v01, v10, v11 = _rows(v_maps, idx, sv_n, W, offs_d, dmask, m00, m01, m10, m11)
            acc += (
                (a * ex * ey)[:, None] * v00.to(scale.dtype)
                + (a * fx * ey)[:, None] * v01.to(scale.dtype)
                + (a * ex * fy)[:, None] * v10.to(scale.dtype)
                + (a * fx * fy)[:, None] * v11.to(scale.dtype)
            )
        out_rows = out_ptr + b * sout_b + i * sout_n + m * sout_m
        tl.store(out_rows[:, None] + offs_d[None, :], acc.to(out_ptr.dtype.element_ty), mask=tile_mask)

    @triton.jit(do_not_specialize=["scale_bits", "H", "W"])
    def ssa_bwd_kernel(
        gout_ptr, q_ptr, k_ptr, v_ptr, off_ptr, ref_ptr, scale_bits: tl.int64,
        gq_ptr, gk_ptr, gv_ptr, goff_ptr,
        R, N, M, P, D, H, W,
        sg_b, sg_n, sg_m, sq_b, sq_n, sq_m, sk_b, sk_n, sk_m, sv_b, sv_n, sv_m,
        so_b, so_n, so_m, so_p, so_c,
        sgq_b, sgq_n, sgq_m, sga_b, sga_n, sga_m,
        sgo_b, sgo_n, sgo_m, sgo_p, sgo_c,
        BLOCK_Q: tl.constexpr, BLOCK_D: tl.constexpr, BLOCK_P: tl.constexpr, F64: tl.constexpr,
    ):  # fmt: skip
        scale, w_f, h_f = _scalars(scale_bits, W, H, F64)
        b, i, m, qmask = _query_rows(R, N, M, BLOCK_Q)
        offs_d = tl.arange(0, BLOCK_D)
        dmask = offs_d < D
        cols = tl.arange(0, BLOCK_P)
        tile_mask = qmask[:, None] & dmask[None, :]

        q_rows = q_ptr + b * sq_b + i * sq_n + m * sq_m
        q_tile = tl.load(q_rows[:, None] + offs_d[None, :], mask=tile_mask, other=0.0).to(scale.dtype)
        g_rows = gout_ptr + b * sg_b + i * sg_n + m * sg_m
        g_tile = tl.load(g_rows[:, None] + offs_d[None, :], mask=tile_mask, other=0.0).to(scale.dtype)
        rx = tl.load(ref_ptr + 2 * i, mask=qmask, other=0.0).to(scale.dtype)
        ry = tl.load(ref_ptr + 2 * i + 1, mask=qmask, other=0.0).to(scale.dtype)
        off_rows = off_ptr + b * so_b + i * so_n + m * so_m
        k_maps = k_ptr + b * sk_b + m * sk_m
        v_maps = v_ptr + b * sv_b + m * sv_m

        # pass 1, per point: the corner dot products <q, K_c> and <gout, V_c>, from which the score
        # s, dL/da = <gout, V(x)>, and the x/y derivatives of <q, K(x)> and <gout, V(x)>.
        scores = tl.zeros((BLOCK_Q, BLOCK_P), dtype=scale.dtype)
        grad_a = tl.zeros((BLOCK_Q, BLOCK_P), dtype=scale.dtype)
        qk_x = tl.zeros((BLOCK_Q, BLOCK_P), dtype=scale.dtype)
        qk_y = tl.zeros((BLOCK_Q, BLOCK_P), dtype=scale.dtype)
        gv_x = tl.zeros((BLOCK_Q, BLOCK_P), dtype=scale.dtype)
        gv_y = tl.zeros((BLOCK_Q, BLOCK_P), dtype=scale.dtype)
        for j in range(P):
            idx, m00, m01, m10, m11, fx, fy, ex, ey = _corners(
                off_rows + j * so_p, so_c, rx, ry, qmask, W, H, w_f, h_f, F64
            )
            k00, k01, k10, k11 = _rows(k_maps, idx, sk_n, W, offs_d, dmask, m00, m01, m10, m11)
            d00 = tl.sum(q_tile * k00.to(scale.dtype), axis=1)
            d01 = tl.sum(q_tile * k01.to(scale.dtype), axis=1)
            d10 = tl.sum(q_tile * k10.to(scale.dtype), axis=1)
            d11 = tl.sum(q_tile * k11.to(scale.dtype), axis=1)
            s = (ex * ey * d00 + fx * ey * d01 + ex * fy * d10 + fx * fy * d11) * scale
            scores = _put(scores, cols, j, s)
            qk_x = _put(qk_x, cols, j, ey * (d01 - d00) + fy * (d11 - d10))
            qk_y = _put(qk_y, cols, j, ex * (d10 - d00) + fx * (d11 - d01))
            v00, v01, v10, v11 = _rows(v_maps, idx, sv_n, W, offs_d, dmask, m00, m01, m10, m11)
            e00 = tl.sum(g_tile * v00.to(scale.dtype), axis=1)
            e01 = tl.sum(g_tile * v01.to(scale.dtype), axis=1)
            e10 = tl.sum(g_tile * v10.to(scale.dtype), axis=1)
            e11 = tl.sum(g_tile * v11.to(scale.dtype), axis=1)
            grad_a = _put(grad_a, cols, j, ex * ey * e00 + fx * ey * e01 + ex * fy * e10 + fx * fy * e11)
            gv_x = _put(gv_x, cols, j, ey * (e01 - e00) + fy * (e11 - e10))
            gv_y = _put(gv_y, cols, j, ex * (e10 - e00) + fx * (e11 - e01))

        scores = tl.where(cols[None, :] < P, scores, float("-inf"))
        e = tl.exp(scores - tl.max(scores, axis=1)[:, None])
        attn = e / tl.sum(e, axis=1)[:, None]
        # dL/ds = a (dL/da − Σ a dL/da); times the scale: dL/d<q, K(x)>
        grad_s = attn * (grad_a - tl.sum(attn * grad_a, axis=1)[:, None]) * scale
        # the offsets move x and y one-for-one (dx/doff = 1)
        goff_x = grad_s * qk_x + attn * gv_x
        goff_y = grad_s * qk_y + attn * gv_y
        goff_rows = goff_ptr + b * sgo_b + i * sgo_n + m * sgo_m
        goff_ptrs = goff_rows[:, None] + cols[None, :] * sgo_p
        goff_mask = qmask[:, None] & (cols[None, :] < P)
        tl.store(goff_ptrs, goff_x.to(goff_ptr.dtype.element_ty), mask=goff_mask)
        tl.store(goff_ptrs + sgo_c, goff_y.to(goff_ptr.dtype.element_ty), mask=goff_mask)

        # pass 2, per point: dL/dq gathers K; dL/dK and dL/dV scatter into the corner rows.
        gq = tl.zeros((BLOCK_Q, BLOCK_D), dtype=scale.dtype)
        gk_maps = gk_ptr + b * sga_b + m * sga_m
        gv_maps = gv_ptr + b * sga_b + m * sga_m
        for j in range(P):
            a = _column(attn, cols, j)
            gs = _column(grad_s, cols, j)
            idx, m00, m01, m10, m11, fx, fy, ex, ey = _corners(
                off_rows + j * so_p, so_c, rx, ry, qmask, W, H, w_f, h_f, F64
            )
            k00, k01, k10, k11 = _rows(k_maps, idx, sk_n, W, offs_d, dmask, m00, m01, m10, m11)
            c00 = gs * ex * ey
            c01 = gs * fx * ey
            c10 = gs * ex * fy
            c11 = gs * fx * fy
            gq += (
                c00[:, None] * k00.to(scale.dtype)
                + c01[:, None] * k01.to(scale.dtype)
                + c10[:, None] * k10.to(scale.dtype)
                + c11[:, None] * k11.to(scale.dtype)
            )
            at0 = idx[:, None] * sga_n + offs_d[None, :]  # top row of the cell
            at1 = (idx + W)[:, None] * sga_n + offs_d[None, :]  # bottom row
            mk00 = m00[:, None] & dmask[None, :]
            mk01 = m01[:, None] & dmask[None, :]
            mk10 = m10[:, None] & dmask[None, :]
            mk11 = m11[:, None] & dmask[None, :]
            tl.atomic_add(gk_maps[:, None] + at0, c00[:, None] * q_tile, mask=mk00, sem="relaxed")
            tl.atomic_add(gk_maps[:, None] + at0 + sga_n, c01[:, None] * q_tile, mask=mk01, sem="relaxed")
            tl.atomic_add(gk_maps[:, None] + at1, c10[:, None] * q_tile, mask=mk10, sem="relaxed")
            tl.atomic_add(gk_maps[:, None] + at1 + sga_n, c11[:, None] * q_tile, mask=mk11, sem="relaxed")
            v00 = (a * ex * ey)[:, None] * g_tile
            v01 = (a * fx * ey)[:, None] * g_tile
            v10 = (a * ex * fy)[:, None] * g_tile
            v11 = (a * fx * fy)[:, None] * g_tile
            tl.atomic_add(gv_maps[:, None] + at0, v00, mask=mk00, sem="relaxed")
            tl.atomic_add(gv_maps[:, None] + at0 + sga_n, v01, mask=mk01, sem="relaxed")
            tl.atomic_add(gv_maps[:, None] + at1, v10, mask=mk10, sem="relaxed")
            tl.atomic_add(gv_maps[:, None] + at1 + sga_n, v11, mask=mk11, sem="relaxed")
        gq_rows = gq_ptr + b * sgq_b + i * sgq_n + m * sgq_m
        tl.store(gq_rows[:, None] + offs_d[None, :], gq.to(gq_ptr.dtype.element_ty), mask=tile_mask)
