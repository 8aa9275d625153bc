//! Single-precision matrix multiply (SGEMM) for the CPU backend.
//!
//! Every dense layer's forward pass (`X * W`) and both halves of its backward pass
//! (`X^T * dY` and `dY * W^T`) end up here, so this is where most training time goes.
//!
//! On x86-64 the work is done by a cache-blocked (Goto / BLIS style) multiply of our own:
//! `op(A)` and `op(B)` are copied ("packed") into contiguous panels sized for the caches,
//! and a register-blocked micro-kernel computes one small tile of C at a time. The kernel
//! is chosen at run time: AVX-512 (14 x 32 tile in `zmm` registers) when the CPU has it,
//! else AVX2 + FMA (6 x 16 tile in `ymm` registers). No build flags are needed. For the
//! small shapes of MLP training, packing can cost as much as the multiply, so an operand
//! whose layout already suits the kernel (`A` stored transposed, `B` stored as is) is read
//! in place when the packed copy would be reused too few times to pay for itself.
//! Everywhere else (wasm32, ARM, old x86) the call goes to the `matrixmultiply` crate,
//! whose strided interface makes the transposes free.

/// `C = alpha * op(A) * op(B) + beta * C` for row-major `f32` matrices.
///
/// * `op(A)` is `m x k`: `a` holds `A` as `m x k` rows, or as `k x m` rows when `trans_a`.
/// * `op(B)` is `k x n`: `b` holds `B` as `k x n` rows, or as `n x k` rows when `trans_b`.
/// * `c` is `m x n`, row-major.
///
/// When `beta == 0`, `C` is overwritten and never read (NaN or infinity in it does not leak
/// into the result), as in BLAS. `k == 0` (or `alpha == 0`) gives `C = beta * C`.
/// Any of `m`, `n`, `k` may be 0 or 1.
///
/// # Panics
///
/// If `a`, `b` or `c` is shorter than `m * k`, `k * n` or `m * n` values. Only the first
/// that many values of each slice are used.
///
/// ```
/// use tunelab::backend::gemm::sgemm;
/// // [1 2] * [5 6] = [19 22]
/// // [3 4]   [7 8]   [43 50]
/// let a = [1.0, 2.0, 3.0, 4.0];
/// let b = [5.0, 6.0, 7.0, 8.0];
/// let mut c = [0.0; 4];
/// sgemm(2, 2, 2, 1.0, &a, false, &b, false, 0.0, &mut c);
/// assert_eq!(c, [19.0, 22.0, 43.0, 50.0]);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    trans_a: bool,
    b: &[f32],
    trans_b: bool,
    beta: f32,
    c: &mut [f32],
) {
    // These checks are O(1) and keep the unsafe code below sound even if a caller gets the
    // shapes wrong, so they stay on in release builds.
    check_lengths(m, n, k, a, b, c);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 || alpha == 0.0 {
        scale(beta, &mut c[..m * n]);
        return;
    }

    #[cfg(target_arch = "x86_64")]
    {
        if let Some(kernel) = x86::Kernel::detect() {
            // SAFETY: `detect` only returns a kernel whose CPU features are present, and
            // `check_lengths` proved that `a`, `b`, `c` hold the `m*k`, `k*n`, `m*n` values
            // the blocked driver reads and writes.
            unsafe {
                x86::sgemm(
                    kernel, None, m, n, k, alpha, a, trans_a, b, trans_b, beta, c,
                )
            };
            return;
        }
    }

    fallback(m, n, k, alpha, a, trans_a, b, trans_b, beta, c);
}

/// The obvious triple loop, with the same contract as [`sgemm`]. It is slow and exists as
/// the ground truth that tests compare the fast paths against.
#[allow(clippy::too_many_arguments)]
pub fn sgemm_reference(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    trans_a: bool,
    b: &[f32],
    trans_b: bool,
    beta: f32,
    c: &mut [f32],
) {
    check_lengths(m, n, k, a, b, c);
    for i in 0..m {
        for j in 0..n {
            // Accumulate in f64 so the reference is more accurate than what it checks.
            let mut acc = 0.0f64;
            for p in 0..k {
                let av = if trans_a { a[p * m + i] } else { a[i * k + p] };
                let bv = if trans_b { b[j * k + p] } else { b[p * n + j] };
                acc += av as f64 * bv as f64;
            }
            let prod = alpha as f64 * acc;
            let old = c[i * n + j];
            c[i * n + j] = if beta == 0.0 {
                prod as f32
            } else {
                (prod + beta as f64 * old as f64) as f32
            };
        }
    }
}

fn check_lengths(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &[f32]) {
    // An overflowing product saturates, and no slice is usize::MAX long, so the length
    // checks below still refuse it (callers' shapes are bounded far below this anyway).
    let (na, nb, nc) = (
        m.saturating_mul(k),
        k.saturating_mul(n),
        m.saturating_mul(n),
    );
    assert!(
        a.len() >= na,
        "sgemm: A has {} values, needs {na} (m={m}, k={k})",
        a.len()
    );
    assert!(
        b.len() >= nb,
        "sgemm: B has {} values, needs {nb} (k={k}, n={n})",
        b.len()
    );
    assert!(
        c.len() >= nc,
        "sgemm: C has {} values, needs {nc} (m={m}, n={n})",
        c.len()
    );
}

/// `C = beta * C`, writing zeros (not `0 * NaN`) when `beta == 0`.
fn scale(beta: f32, c: &mut [f32]) {
    if beta == 0.0 {
        c.fill(0.0);
    } else if beta != 1.0 {
        c.iter_mut().for_each(|x| *x *= beta);
    }
}

/// The portable path: `matrixmultiply` takes a row and a column stride per operand, so a
/// transpose is just swapped strides.
#[allow(clippy::too_many_arguments)]
fn fallback(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    trans_a: bool,
    b: &[f32],
    trans_b: bool,
    beta: f32,
    c: &mut [f32],
) {
    let (rsa, csa) = if trans_a { (1, m) } else { (k, 1) };
    let (rsb, csb) = if trans_b { (1, k) } else { (n, 1) };
    // SAFETY: with these strides matrixmultiply touches exactly the elements
    // `i*rsa + p*csa < m*k`, `p*rsb + j*csb < k*n` and `i*n + j < m*n`, all in bounds by
    // `check_lengths`; `c` is a unique borrow, so writing through it aliases nothing. Slice
    // lengths never exceed isize::MAX, so the stride casts are lossless.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            rsa as isize,
            csa as isize,
            b.as_ptr(),
            rsb as isize,
            csb as isize,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! The blocked driver and the SIMD micro-kernels. Only compiled for x86-64.

    use std::cell::RefCell;

    /// Which micro-kernel to use; each variant promises its CPU features are present.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub(super) enum Kernel {
        Avx512,
        Avx2,
    }

    impl Kernel {
        /// The fastest kernel this CPU supports, if any. `is_x86_feature_detected!` caches
        /// its answer, so calling this per multiply costs a couple of loads.
        pub(super) fn detect() -> Option<Kernel> {
            if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("fma") {
                Some(Kernel::Avx512)
            } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                Some(Kernel::Avx2)
            } else {
                None
            }
        }

        /// Every kernel the running CPU can execute (tests use it to cover the slower one).
        #[cfg(test)]
        pub(super) fn all_supported() -> Vec<Kernel> {
            let mut v = Vec::new();
            if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("fma") {
                v.push(Kernel::Avx512);
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                v.push(Kernel::Avx2);
            }
            v
        }

        /// Rows and columns of the C tile one kernel call computes.
        fn tile(self) -> (usize, usize) {
            match self {
                Kernel::Avx512 => (avx512::MR, avx512::NR),
                Kernel::Avx2 => (avx2::MR, avx2::NR),
            }
        }
    }

    /// Depth of one packed block (the k extent the kernel runs over before touching C).
    /// An A micro-panel (14 x 256 floats = 14 KiB) then stays in the 48 KiB L1 while the
    /// kernel sweeps across B.
    const KC: usize = 256;
    /// Columns of B packed at once: KC x NB floats (1 MiB) sit in the 2 MiB L2 while
    /// every row panel of A passes over them.
    const NB: usize = 1024;
    /// Rows of A packed at once (KC x MB floats, 2 MiB, lives in L3). B is packed again for
    /// each such block, so it is large to make that rare.
    const MB: usize = 2048;

    /// A 64-byte aligned chunk, so packed panels start on a cache line and the kernels'
    /// full-vector loads never straddle two lines.
    #[derive(Clone, Copy)]
    #[repr(C, align(64))]
    struct Line([f32; 16]);

    /// Packing buffers reused across calls: training calls sgemm thousands of times with the
    /// same shapes, and a fresh multi-megabyte allocation each time would be mmap'ed and
    /// page-faulted anew.
    struct Scratch {
        a: Vec<Line>,
        b: Vec<Line>,
    }

    thread_local! {
        static SCRATCH: RefCell<Scratch> = const {
            RefCell::new(Scratch { a: Vec::new(), b: Vec::new() })
        };
    }

    /// Grows `v` to at least `floats` values and returns it as a float pointer.
    fn reserve(v: &mut Vec<Line>, floats: usize) -> *mut f32 {
        let lines = floats.div_ceil(16);
        if v.len() < lines {
            v.resize(lines, Line([0.0; 16]));
        }
        v.as_mut_ptr().cast::<f32>()
    }

    /// The multiply's operands and shape, passed around as one value.
    #[derive(Clone, Copy)]
    struct Problem<'a> {
        m: usize,
        n: usize,
        k: usize,
        a: &'a [f32],
        trans_a: bool,
        b: &'a [f32],
        trans_b: bool,
    }

    /// Blocked `C = alpha * op(A) * op(B) + beta * C` on x86-64. `plan` forces which
    /// operands are read in place (tests use it to cover every path); `None` lets
    /// [`Plan::choose`] decide from the shape.
    ///
    /// # Safety
    ///
    /// The CPU must support `kernel`'s features (as `Kernel::detect` checks), `m, n, k > 0`,
    /// and `a`, `b`, `c` must hold at least `m*k`, `k*n`, `m*n` values.
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn sgemm(
        kernel: Kernel,
        plan: Option<Plan>,
        m: usize,
        n: usize,
        k: usize,
        alpha: f32,
        a: &[f32],
        trans_a: bool,
        b: &[f32],
        trans_b: bool,
        beta: f32,
        c: &mut [f32],
    ) {
        let pb = Problem {
            m,
            n,
            k,
            a,
            trans_a,
            b,
            trans_b,
        };
        let plan = plan.unwrap_or_else(|| Plan::choose(kernel, &pb));
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut s) => {
                let s = &mut *s;
                // SAFETY: forwarded from this function's contract.
                unsafe { driver(kernel, plan, pb, alpha, beta, c, &mut s.a, &mut s.b) }
            }
            // Only reachable if sgemm re-entered itself on this thread, which nothing
            // does; stay correct anyway with private buffers.
            // SAFETY: forwarded from this function's contract.
            Err(_) => unsafe {
                driver(
                    kernel,
                    plan,
                    pb,
                    alpha,
                    beta,
                    c,
                    &mut Vec::new(),
                    &mut Vec::new(),
                )
            },
        })
    }

    /// Whether the kernel reads op(A) / op(B) where they lie instead of from packed copies.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub(super) struct Plan {
        /// Read A in place: only possible for `trans_a`, where the values of one k step
        /// are contiguous.
        pub direct_a: bool,
        /// Read B in place: only for `!trans_b` (rows of B contiguous) with AVX-512, whose
        /// masked loads handle the ragged last columns; AVX2 always packs B.
        pub direct_b: bool,
    }

    impl Plan {
        /// Packing costs a pass over the operand, which pays off only when the packed copy
        /// is reused often: B's by every row panel of A (m / 14 of them), A's by every
        /// column panel of B (n / 32). Reading in place costs more cache and TLB misses per
        /// use, and a row stride that is a multiple of 4 KiB maps every row to the same L1
        /// set. Measured on a Xeon (AVX-512): B in place wins up to m ~ 128 (by 15-80% for
        /// m <= 64, even at 4 KiB strides) and loses 5-10% from m = 256; A in place wins
        /// 10-20% for n <= 128 and small A, and loses beyond.
        fn choose(kernel: Kernel, pb: &Problem<'_>) -> Plan {
            let odd_stride = |row_len: usize| !(row_len * 4).is_multiple_of(4096);
            Plan {
                direct_a: pb.trans_a
                    && pb.n <= 160
                    && pb.m * pb.k * 4 <= IN_PLACE_A_BYTES
                    && odd_stride(pb.m),
                direct_b: !pb.trans_b
                    && kernel == Kernel::Avx512
                    && (pb.m <= 64 || (pb.m <= 160 && odd_stride(pb.n))),
            }
        }

        /// Every plan valid for this kernel and transpose combination (for tests).
        #[cfg(test)]
        pub(super) fn all(kernel: Kernel, trans_a: bool, trans_b: bool) -> Vec<Plan> {
            let mut v = Vec::new();
            for direct_a in [false, true] {
                for direct_b in [false, true] {
                    if (direct_a && !trans_a) || (direct_b && (trans_b || kernel != Kernel::Avx512))
                    {
                        continue;
                    }
                    v.push(Plan { direct_a, direct_b });
                }
            }
            v
        }
    }

    /// Largest A (bytes) read in place rather than packed.
    const IN_PLACE_A_BYTES: usize = 256 * 1024;

    /// # Safety
    ///
    /// As for [`sgemm`]: CPU features of `kernel`, `m, n, k > 0`, slice lengths checked.
    #[allow(clippy::too_many_arguments)]
    unsafe fn driver(
        kernel: Kernel,
        plan: Plan,
        pb: Problem<'_>,
        alpha: f32,
        beta: f32,
        c: &mut [f32],
        a_buf: &mut Vec<Line>,
        b_buf: &mut Vec<Line>,
    ) {
        let Problem { m, n, k, .. } = pb;
        let (mr, nr) = kernel.tile();
        let Plan { direct_a, direct_b } = plan;

        let mb_max = m.min(MB);
        let kc_max = k.min(KC);
        let nb_max = n.min(NB);
        let a_pack = if direct_a {
            std::ptr::null_mut()
        } else {
            reserve(a_buf, mb_max.div_ceil(mr) * mr * kc_max)
        };
        let b_pack = if direct_b {
            std::ptr::null_mut()
        } else {
            reserve(b_buf, nb_max.div_ceil(nr) * nr * kc_max)
        };
        let a_ptr = pb.a.as_ptr();
        let b_ptr = pb.b.as_ptr();
        let c_ptr = c.as_mut_ptr();

        for i0 in (0..m).step_by(MB) {
            let mb = (m - i0).min(MB);
            for p0 in (0..k).step_by(KC) {
                let kc = (k - p0).min(KC);
                // Only the first k-block applies the caller's beta; later ones add to what
                // the earlier ones stored.
                let beta_blk = if p0 == 0 { beta } else { 1.0 };
                if !direct_a {
                    // SAFETY: the buffer holds ceil(mb_max/mr)*mr*kc_max >= the
                    // ceil(mb/mr)*mr*kc floats written; i0+mb <= m and p0+kc <= k keep
                    // the reads inside op(A); the CPU has `kernel`'s features.
                    unsafe {
                        match kernel {
                            Kernel::Avx512 => avx512::pack_a(pb, i0, mb, p0, kc, a_pack),
                            Kernel::Avx2 => scalar_pack_a(pb, i0, mb, p0, kc, mr, a_pack),
                        }
                    }
                }
                for j0 in (0..n).step_by(NB) {
                    let nb = (n - j0).min(NB);
                    if !direct_b {
                        // SAFETY: as for pack_a, with ceil(nb/nr)*nr*kc floats, j0+nb <= n.
                        unsafe {
                            match kernel {
                                Kernel::Avx512 => avx512::pack_b(pb, p0, kc, j0, nb, b_pack),
                                Kernel::Avx2 => scalar_pack_b(pb, p0, kc, j0, nb, nr, b_pack),
                            }
                        }
                    }
                    for ib in (0..mb).step_by(mr) {
                        let rows = (mb - ib).min(mr);
                        // Where panel (ib, p0) starts and how far apart consecutive p are.
                        // SAFETY: offsets stay inside the packed buffer (panel ib/mr of
                        // the block) or inside `a` (element (i0+ib, p0) of A^T stored k x m,
                        // at (p0)*m + i0 + ib < m*k).
                        let (ap, a_ks) = unsafe {
                            if direct_a {
                                (a_ptr.add(p0 * m + i0 + ib), m)
                            } else {
                                (a_pack.add(ib * kc).cast_const(), mr)
                            }
                        };
                        for jb in (0..nb).step_by(nr) {
                            let cols = (nb - jb).min(nr);
                            // SAFETY: panel pointers as above (for B in place, element
                            // (p0, j0+jb) at p0*n + j0 + jb < k*n). The kernel reads kc
                            // steps of `rows` A values and `cols` B values (or the padded
                            // panel), all inside op(A) / op(B) / the buffers, and writes
                            // rows i0+ib.. < m, columns j0+jb.. < n of C, below m*n; `c`
                            // is borrowed mutably so nothing aliases it. The caller
                            // promised the CPU features of `kernel`.
                            unsafe {
                                let (bp, b_ks) = if direct_b {
                                    (b_ptr.add(p0 * n + j0 + jb), n)
                                } else {
                                    (b_pack.add(jb * kc).cast_const(), nr)
                                };
                                let ct = c_ptr.add((i0 + ib) * n + j0 + jb);
                                let t = avx512::Tile {
                                    kc,
                                    a: ap,
                                    a_ks,
                                    b: bp,
                                    b_ks,
                                    c: ct,
                                    ldc: n,
                                    rows,
                                    cols,
                                    alpha,
                                    beta: beta_blk,
                                };
                                match kernel {
                                    Kernel::Avx512 => avx512::tile(&t),
                                    Kernel::Avx2 => avx2::tile(&t),
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Copies rows `i0..i0+mb`, columns `p0..p0+kc` of op(A) into `dst` as row panels of
    /// `mr` rows: panel q holds, for each p, the `mr` values A(i0+q*mr+r, p0+p) side by
    /// side (zeros past row m), which is the order the kernel broadcasts them in.
    /// Portable scalar version, used with the AVX2 kernel.
    ///
    /// # Safety
    ///
    /// `dst` must have room for ceil(mb/mr)*mr*kc floats. (Reads of `a` are
    /// bounds-checked.)
    unsafe fn scalar_pack_a(
        pb: Problem<'_>,
        i0: usize,
        mb: usize,
        p0: usize,
        kc: usize,
        mr: usize,
        dst: *mut f32,
    ) {
        let panels = mb.div_ceil(mr);
        // SAFETY: the caller guarantees this much room; the slice is the only live view.
        let dst = unsafe { std::slice::from_raw_parts_mut(dst, panels * mr * kc) };
        for (q, panel) in dst.chunks_exact_mut(mr * kc).enumerate() {
            let r0 = q * mr;
            let rows = (mb - r0).min(mr);
            if pb.trans_a {
                // A stored k x m: the values for one p are contiguous.
                for p in 0..kc {
                    let src = &pb.a[(p0 + p) * pb.m + i0 + r0..][..rows];
                    panel[p * mr..p * mr + rows].copy_from_slice(src);
                }
            } else {
                // A stored m x k: read each row along p, scatter with stride mr.
                for r in 0..rows {
                    let src = &pb.a[(i0 + r0 + r) * pb.k + p0..][..kc];
                    for (p, &v) in src.iter().enumerate() {
                        panel[p * mr + r] = v;
                    }
                }
            }
            if rows < mr {
                for p in 0..kc {
                    panel[p * mr + rows..(p + 1) * mr].fill(0.0);
                }
            }
        }
    }

    /// Copies rows `p0..p0+kc`, columns `j0..j0+nb` of op(B) into `dst` as column panels
    /// of `nr` columns: panel q holds, for each p, B(p0+p, j0+q*nr ..+nr) contiguously
    /// (zeros past column n), so the kernel reads a packed row with full vector loads.
    /// Portable scalar version, used with the AVX2 kernel.
    ///
    /// # Safety
    ///
    /// `dst` must have room for ceil(nb/nr)*nr*kc floats. (Reads of `b` are
    /// bounds-checked.)
    unsafe fn scalar_pack_b(
        pb: Problem<'_>,
        p0: usize,
        kc: usize,
        j0: usize,
        nb: usize,
        nr: usize,
        dst: *mut f32,
    ) {
        let panels = nb.div_ceil(nr);
        // SAFETY: the caller guarantees this much room; the slice is the only live view.
        let dst = unsafe { std::slice::from_raw_parts_mut(dst, panels * nr * kc) };
        for (q, panel) in dst.chunks_exact_mut(nr * kc).enumerate() {
            let c0 = q * nr;
            let cols = (nb - c0).min(nr);
            if pb.trans_b {
                // B stored n x k: read each B^T row along p, scatter with stride nr.
                for j in 0..cols {
                    let src = &pb.b[(j0 + c0 + j) * pb.k + p0..][..kc];
                    for (p, &v) in src.iter().enumerate() {
                        panel[p * nr + j] = v;
                    }
                }
            } else {
                // B stored k x n: a packed row is a contiguous piece of a B row.
                for p in 0..kc {
                    let src = &pb.b[(p0 + p) * pb.n + j0 + c0..][..cols];
                    panel[p * nr..p * nr + cols].copy_from_slice(src);
                }
            }
            if cols < nr {
                for p in 0..kc {
                    panel[p * nr + cols..(p + 1) * nr].fill(0.0);
                }
            }
        }
    }

    /// Generates the `match rows { 1 => f::<1>(..), ... }` that turns the run-time row
    /// count of an edge tile into a compile-time one, so each kernel's accumulators are
    /// plain registers.
    macro_rules! dispatch_rows {
        ($rows:expr, $f:ident, $args:tt, $($r:literal)*) => {
            match $rows {
                $($r => $f::<$r> $args,)*
                _ => unreachable!("tile rows out of range"),
            }
        };
    }

    mod avx512 {
        //! 14 x 32 micro-kernel: 14 rows x 2 zmm = 28 accumulators, 2 registers for the
        //! B row and 1 for the A value being broadcast (each broadcast feeds two FMAs),
        //! 31 of the 32 zmm registers. Also the AVX-512 packing routines, and [`Tile`],
        //! which the AVX2 kernel shares.
        use super::Problem;
        use std::arch::x86_64::*;

        pub(super) const MR: usize = 14;
        pub(super) const NR: usize = 32;

        /// One kernel call: `C[..rows, ..cols] = alpha * A * B + beta * C` over `kc` steps,
        /// where step p reads A values at `a + p*a_ks + r` (r < rows) and B values at
        /// `b + p*b_ks + j` (j < cols, or j < NR for a zero-padded packed panel).
        pub(in super::super) struct Tile {
            pub kc: usize,
            pub a: *const f32,
            pub a_ks: usize,
            pub b: *const f32,
            pub b_ks: usize,
            pub c: *mut f32,
            pub ldc: usize,
            pub rows: usize,
            pub cols: usize,
            pub alpha: f32,
            pub beta: f32,
        }

        /// # Safety
        ///
        /// AVX-512F and FMA must be available; 1 <= rows <= MR, 1 <= cols <= NR; every
        /// address described on [`Tile`] must be readable, and `c + r*ldc + j` writable,
        /// for r < rows, j < cols.
        #[inline]
        pub(in super::super) unsafe fn tile(t: &Tile) {
            // SAFETY: forwarded from this function's contract; R == rows <= MR.
            unsafe {
                if t.cols == NR {
                    dispatch_rows!(t.rows, kernel_full, (t), 1 2 3 4 5 6 7 8 9 10 11 12 13 14)
                } else if t.cols > 16 {
                    dispatch_rows!(t.rows, kernel_edge, (t), 1 2 3 4 5 6 7 8 9 10 11 12 13 14)
                } else {
                    dispatch_rows!(t.rows, kernel_narrow, (t), 1 2 3 4 5 6 7 8 9 10 11 12 13 14)
                }
            }
        }

        #[target_feature(enable = "avx512f,fma")]
        unsafe fn kernel_full<const R: usize>(t: &Tile) {
            // SAFETY: forwarded; cols == NR so the all-ones masks cover exactly the tile.
            unsafe { kernel::<R, 2>(t, 0xffff, 0xffff) }
        }

        /// 17 to 31 columns: both vectors, the second one masked.
        #[target_feature(enable = "avx512f,fma")]
        unsafe fn kernel_edge<const R: usize>(t: &Tile) {
            // Lane j of the second vector is live when 16 + j < cols.
            let m1 = low_lanes(t.cols - 16);
            // SAFETY: forwarded; the masks enable exactly the columns < cols.
            unsafe { kernel::<R, 2>(t, 0xffff, m1) }
        }

        /// At most 16 columns (a narrow matrix, or the last tile of one): one vector per
        /// row, so no FMAs are spent on a second all-padding vector.
        #[target_feature(enable = "avx512f,fma")]
        unsafe fn kernel_narrow<const R: usize>(t: &Tile) {
            // SAFETY: forwarded; the mask enables exactly the columns < cols.
            unsafe { kernel::<R, 1>(t, low_lanes(t.cols), 0) }
        }

        /// The kernel proper, `R` rows by `V` (1 or 2) vectors of 16 columns. Masked-off
        /// lanes of loads and stores are never accessed, so `m0`/`m1` keep every access
        /// inside the tile's `cols` columns.
        #[inline(always)]
        unsafe fn kernel<const R: usize, const V: usize>(t: &Tile, m0: __mmask16, m1: __mmask16) {
            let mut acc0 = [_mm512_setzero_ps(); R];
            let mut acc1 = [_mm512_setzero_ps(); R];
            // SAFETY (whole block): for p < kc, a + p*a_ks + r (r < R == rows) and the
            // unmasked lanes of b + p*b_ks .. + 32 are readable by the caller's contract.
            unsafe {
                let mut ap = t.a;
                let mut bp = t.b;
                for _ in 0..t.kc {
                    let b0 = _mm512_maskz_loadu_ps(m0, bp);
                    if V == 2 {
                        let b1 = _mm512_maskz_loadu_ps(m1, bp.wrapping_add(16));
                        for r in 0..R {
                            let av = _mm512_set1_ps(*ap.add(r));
                            acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
                            acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
                        }
                    } else {
                        for (r, acc) in acc0.iter_mut().enumerate() {
                            let av = _mm512_set1_ps(*ap.add(r));
                            *acc = _mm512_fmadd_ps(av, b0, *acc);
                        }
                    }
                    ap = ap.wrapping_add(t.a_ks);
                    bp = bp.wrapping_add(t.b_ks);
                }
            }
            let va = _mm512_set1_ps(t.alpha);
            let vb = _mm512_set1_ps(t.beta);
            for r in 0..R {
                let mut v0 = _mm512_mul_ps(acc0[r], va);
                let mut v1 = _mm512_mul_ps(acc1[r], va);
                // SAFETY: row r < rows of the tile and the masks cover columns < cols.
                unsafe {
                    let cr = t.c.add(r * t.ldc);
                    let cr1 = cr.wrapping_add(16);
                    if t.beta == 1.0 {
                        // Later k blocks add onto what the first one stored.
                        v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, cr), v0);
                        v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, cr1), v1);
                    } else if t.beta != 0.0 {
                        // beta == 0 skips the read so NaN in C cannot leak via 0 * NaN.
                        v0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, cr), v0);
                        v1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, cr1), v1);
                    }
                    _mm512_mask_storeu_ps(cr, m0, v0);
                    _mm512_mask_storeu_ps(cr1, m1, v1);
                }
            }
        }

        /// Mask with the low `n` (<= 16) lanes set.
        #[inline(always)]
        fn low_lanes(n: usize) -> __mmask16 {
            if n >= 16 {
                0xffff
            } else {
                (1u16 << n) - 1
            }
        }

        /// Packs op(A) rows `i0..i0+mb`, columns `p0..p0+kc` into MR-row panels (layout as
        /// in `super::scalar_pack_a`).
        ///
        /// # Safety
        ///
        /// AVX-512F available; `dst` has room for ceil(mb/MR)*MR*kc floats; i0+mb <= m,
        /// p0+kc <= k, and the slices in `pb` hold m*k and k*n values.
        #[target_feature(enable = "avx512f")]
        pub(in super::super) unsafe fn pack_a(
            pb: Problem<'_>,
            i0: usize,
            mb: usize,
            p0: usize,
            kc: usize,
            dst: *mut f32,
        ) {
            let store = low_lanes(MR);
            for r0 in (0..mb).step_by(MR) {
                let rows = (mb - r0).min(MR);
                // SAFETY: panel r0/MR lies inside `dst`; source offsets are bounded below.
                unsafe {
                    let panel = dst.add(r0 * kc);
                    if pb.trans_a {
                        // A stored k x m: one masked load picks up the `rows` values of a
                        // step; the zeroed lanes become the padding.
                        let lm = low_lanes(rows);
                        let src = pb.a.as_ptr().add(i0 + r0);
                        for p in 0..kc {
                            // (p0+p)*m + i0 + r0 + rows <= m*k.
                            let v = _mm512_maskz_loadu_ps(lm, src.add((p0 + p) * pb.m));
                            _mm512_mask_storeu_ps(panel.add(p * MR), store, v);
                        }
                    } else {
                        // A stored m x k: rows run along p, so transpose 16 x 16 blocks.
                        let src = pb.a.as_ptr().add((i0 + r0) * pb.k + p0);
                        transpose_pack(src, pb.k, rows, kc, panel, MR, store);
                    }
                }
            }
        }

        /// Packs op(B) rows `p0..p0+kc`, columns `j0..j0+nb` into NR-column panels (layout
        /// as in `super::scalar_pack_b`).
        ///
        /// # Safety
        ///
        /// AVX-512F available; `dst` has room for ceil(nb/NR)*NR*kc floats; p0+kc <= k,
        /// j0+nb <= n, and the slices in `pb` hold m*k and k*n values.
        #[target_feature(enable = "avx512f")]
        pub(in super::super) unsafe fn pack_b(
            pb: Problem<'_>,
            p0: usize,
            kc: usize,
            j0: usize,
            nb: usize,
            dst: *mut f32,
        ) {
            for c0 in (0..nb).step_by(NR) {
                let cols = (nb - c0).min(NR);
                // SAFETY: panel c0/NR lies inside `dst`; source offsets are bounded below.
                unsafe {
                    let panel = dst.add(c0 * kc);
                    if pb.trans_b {
                        // B stored n x k: the panel's columns are rows of the stored
                        // matrix, 16 at a time through a transpose.
                        let src = pb.b.as_ptr().add((j0 + c0) * pb.k + p0);
                        transpose_pack(src, pb.k, cols.min(16), kc, panel, NR, 0xffff);
                        let rest = cols.saturating_sub(16);
                        // With no columns left the second half is all padding; start its
                        // (unread) source at the first half's so the pointer stays valid.
                        let src1 = if rest > 0 { src.add(16 * pb.k) } else { src };
                        transpose_pack(src1, pb.k, rest, kc, panel.add(16), NR, 0xffff);
                    } else {
                        // B stored k x n: copy, zero-filling the lanes past column n.
                        let m0 = low_lanes(cols);
                        let m1 = low_lanes(cols.saturating_sub(16));
                        let src = pb.b.as_ptr().add(p0 * pb.n + j0 + c0);
                        for p in 0..kc {
                            // p0+p < k and j0+c0+cols <= n: the live lanes are inside B.
                            let s = src.add(p * pb.n);
                            let d = panel.add(p * NR);
                            _mm512_storeu_ps(d, _mm512_maskz_loadu_ps(m0, s));
                            _mm512_storeu_ps(
                                d.add(16),
                                _mm512_maskz_loadu_ps(m1, s.wrapping_add(16)),
                            );
                        }
                    }
                }
            }
        }

        /// Reads `rows` (<= 16) rows of `kc` floats, row r at `src + r*ld`, and writes their
        /// transpose: for each p, the 16 values (row 0..16, p) to `dst + p*dst_stride`
        /// with lane mask `store`. Rows past `rows` come out as zeros (the padding).
        ///
        /// # Safety
        ///
        /// AVX-512F available; `src + r*ld + p` readable for r < rows, p < kc (src must be
        /// a valid pointer even when rows == 0); the enabled lanes of
        /// `dst + p*dst_stride ..+16` writable for p < kc.
        #[target_feature(enable = "avx512f")]
        unsafe fn transpose_pack(
            src: *const f32,
            ld: usize,
            rows: usize,
            kc: usize,
            dst: *mut f32,
            dst_stride: usize,
            store: __mmask16,
        ) {
            let mut p = 0;
            while p < kc {
                let len = (kc - p).min(16);
                let lm = low_lanes(len);
                let mut v = [_mm512_setzero_ps(); 16];
                for (r, vr) in v.iter_mut().enumerate() {
                    // Rows past `rows` load nothing (mask 0) from the always valid `src`.
                    let (mask, ptr) = if r < rows {
                        (lm, src.wrapping_add(r * ld + p))
                    } else {
                        (0, src)
                    };
                    // SAFETY: live lanes are (r < rows, p..p+len < kc), readable by contract.
                    *vr = unsafe { _mm512_maskz_loadu_ps(mask, ptr) };
                }
                transpose16(&mut v);
                for (q, vq) in v.iter().enumerate().take(len) {
                    // SAFETY: p + q < kc; enabled lanes writable by contract.
                    unsafe { _mm512_mask_storeu_ps(dst.add((p + q) * dst_stride), store, *vq) };
                }
                p += 16;
            }
        }

        /// In-register transpose of a 16 x 16 block: afterwards `v[c]` lane r holds what
        /// `v[r]` lane c held. Three rounds of shuffles: interleave pairs of rows, then
        /// pairs of pairs (4 x 4 blocks inside each 128-bit lane), then move 128-bit
        /// lanes across registers.
        #[inline]
        #[target_feature(enable = "avx512f")]
        fn transpose16(v: &mut [__m512; 16]) {
            // t[2g], t[2g+1]: rows 2g and 2g+1 interleaved (low / high halves of lanes).
            let mut t = [_mm512_setzero_ps(); 16];
            for g in 0..8 {
                t[2 * g] = _mm512_unpacklo_ps(v[2 * g], v[2 * g + 1]);
                t[2 * g + 1] = _mm512_unpackhi_ps(v[2 * g], v[2 * g + 1]);
            }
            // w[4*q + s]: rows 4q..4q+4 of column 4L+s in 128-bit lane L.
            let mut w = [_mm512_setzero_ps(); 16];
            for q in 0..4 {
                let (t0, t1) = (_mm512_castps_pd(t[4 * q]), _mm512_castps_pd(t[4 * q + 1]));
                let (t2, t3) = (
                    _mm512_castps_pd(t[4 * q + 2]),
                    _mm512_castps_pd(t[4 * q + 3]),
                );
                w[4 * q] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
                w[4 * q + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
                w[4 * q + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
                w[4 * q + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
            }
            // Gather the four 4-row pieces of each column into one register.
            for s in 0..4 {
                let x0 = _mm512_shuffle_f32x4::<0x88>(w[s], w[4 + s]);
                let x1 = _mm512_shuffle_f32x4::<0xdd>(w[s], w[4 + s]);
                let x2 = _mm512_shuffle_f32x4::<0x88>(w[8 + s], w[12 + s]);
                let x3 = _mm512_shuffle_f32x4::<0xdd>(w[8 + s], w[12 + s]);
                v[s] = _mm512_shuffle_f32x4::<0x88>(x0, x2);
                v[8 + s] = _mm512_shuffle_f32x4::<0xdd>(x0, x2);
                v[4 + s] = _mm512_shuffle_f32x4::<0x88>(x1, x3);
                v[12 + s] = _mm512_shuffle_f32x4::<0xdd>(x1, x3);
            }
        }
    }

    mod avx2 {
        //! 6 x 16 micro-kernel for CPUs without AVX-512: 6 rows x 2 ymm = 12 accumulators
        //! out of 16 registers. B always comes from a zero-padded packed panel.
        use super::avx512::Tile;
        use std::arch::x86_64::*;

        pub(super) const MR: usize = 6;
        pub(super) const NR: usize = 16;

        /// # Safety
        ///
        /// AVX2 and FMA available; 1 <= rows <= MR, 1 <= cols <= NR; `b` a packed panel
        /// (NR floats per step); the A addresses of [`Tile`] readable and
        /// `c + r*ldc + j` writable for r < rows, j < cols.
        #[inline]
        pub(in super::super) unsafe fn tile(t: &Tile) {
            // SAFETY: forwarded from this function's contract; R == rows <= MR.
            unsafe { dispatch_rows!(t.rows, kernel, (t), 1 2 3 4 5 6) }
        }

        #[target_feature(enable = "avx2,fma")]
        unsafe fn kernel<const R: usize>(t: &Tile) {
            let mut acc0 = [_mm256_setzero_ps(); R];
            let mut acc1 = [_mm256_setzero_ps(); R];
            // SAFETY: for p < kc, a + p*a_ks + r (r < R) and b + p*b_ks + 15 are readable.
            unsafe {
                let mut ap = t.a;
                let mut bp = t.b;
                for _ in 0..t.kc {
                    let b0 = _mm256_loadu_ps(bp);
                    let b1 = _mm256_loadu_ps(bp.add(8));
                    for r in 0..R {
                        let av = _mm256_broadcast_ss(&*ap.add(r));
                        acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
                        acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
                    }
                    ap = ap.wrapping_add(t.a_ks);
                    bp = bp.wrapping_add(t.b_ks);
                }
            }
            let va = _mm256_set1_ps(t.alpha);
            let vb = _mm256_set1_ps(t.beta);
            if t.cols == NR {
                for r in 0..R {
                    let mut v0 = _mm256_mul_ps(acc0[r], va);
                    let mut v1 = _mm256_mul_ps(acc1[r], va);
                    // SAFETY: full tile: row r < rows, columns 0..16 < cols.
                    unsafe {
                        let cr = t.c.add(r * t.ldc);
                        if t.beta != 0.0 {
                            // beta == 0 never reads C, so NaN there cannot leak.
                            v0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), v0);
                            v1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr.add(8)), v1);
                        }
                        _mm256_storeu_ps(cr, v0);
                        _mm256_storeu_ps(cr.add(8), v1);
                    }
                }
            } else {
                // Edge tile: spill the accumulators and finish column by column; this runs
                // once per tile, after kc steps, so its cost does not matter.
                let mut buf = [0.0f32; NR];
                for r in 0..R {
                    // SAFETY: `buf` has room for two ymm stores (16 floats).
                    unsafe {
                        _mm256_storeu_ps(buf.as_mut_ptr(), _mm256_mul_ps(acc0[r], va));
                        _mm256_storeu_ps(buf.as_mut_ptr().add(8), _mm256_mul_ps(acc1[r], va));
                    }
                    for (j, &v) in buf.iter().enumerate().take(t.cols) {
                        // SAFETY: row r < rows, column j < cols.
                        unsafe {
                            let cp = t.c.add(r * t.ldc + j);
                            *cp = if t.beta == 0.0 { v } else { v + t.beta * *cp };
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [-1, 1) without pulling in an RNG.
    fn fill(len: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(12345);
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s >> 8) as f32 / (1u32 << 23) as f32 - 1.0
            })
            .collect()
    }

    type Gemm<'f> =
        &'f dyn Fn(usize, usize, usize, f32, &[f32], bool, &[f32], bool, f32, &mut [f32]);

    /// Runs `f` and the reference on the same inputs and compares elementwise, with a
    /// tolerance that grows with k (rounding error of a k-term dot product). `what` names
    /// the path under test in failure messages.
    #[allow(clippy::too_many_arguments)]
    fn check_with(
        what: &str,
        f: Gemm<'_>,
        m: usize,
        n: usize,
        k: usize,
        ta: bool,
        tb: bool,
        alpha: f32,
        beta: f32,
    ) {
        let a = fill(m * k, (m * 31 + k) as u32);
        let b = fill(k * n, (n * 17 + k + 7) as u32);
        let c0 = if beta == 0.0 {
            vec![f32::NAN; m * n]
        } else {
            fill(m * n, (m + n) as u32 + 3)
        };
        let mut want = c0.clone();
        sgemm_reference(m, n, k, alpha, &a, ta, &b, tb, beta, &mut want);
        let mut got = c0.clone();
        f(m, n, k, alpha, &a, ta, &b, tb, beta, &mut got);
        let tol = 1e-5 * (k.max(1) as f32) * (alpha.abs() + 1.0) + 1e-6 * beta.abs();
        for (idx, (&g, &w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - w).abs() <= tol * w.abs().max(1.0),
                "{what}: m={m} n={n} k={k} ta={ta} tb={tb} alpha={alpha} beta={beta}: \
                 C[{}][{}] = {g}, want {w}",
                idx / n,
                idx % n
            );
        }
    }

    /// Shapes chosen to hit every edge: 1 x 1 x 1, single rows and columns, k = 1, exact
    /// tiles (14 x 32), one more and one less than a tile, more than one k block (KC = 256),
    /// more than one column block (NB = 1024) and more than one row block (MB = 2048).
    const SHAPES: &[(usize, usize, usize)] = &[
        (1, 1, 1),
        (1, 1, 7),
        (1, 40, 9),
        (5, 1, 9),
        (1, 33, 65),
        (17, 1, 3),
        (3, 4, 1),
        (32, 33, 1),
        (14, 32, 5),
        (15, 31, 16),
        (13, 17, 15),
        (17, 33, 65),
        (32, 128, 64),
        (29, 47, 257),
        (130, 257, 300),
        (64, 1100, 40),
        (2100, 20, 10),
    ];

    const SCALES: &[(f32, f32)] = &[(1.0, 0.0), (-0.5, 1.0), (1.5, -2.0)];

    fn check_all(what: &str, f: Gemm<'_>) {
        for &(m, n, k) in SHAPES {
            for ta in [false, true] {
                for tb in [false, true] {
                    for &(alpha, beta) in SCALES {
                        check_with(what, f, m, n, k, ta, tb, alpha, beta);
                    }
                }
            }
        }
    }

    #[test]
    fn gemm_matches_reference() {
        check_all("sgemm", &sgemm);
    }

    #[test]
    fn gemm_fallback_matches_reference() {
        check_all("matrixmultiply fallback", &fallback);
    }

    /// Every kernel the CPU runs (so AVX2 is covered on an AVX-512 machine too), with every
    /// packed / in-place choice, not just the one the size heuristic would pick.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn gemm_every_x86_kernel_and_plan_matches_reference() {
        for kernel in x86::Kernel::all_supported() {
            for &(m, n, k) in SHAPES {
                for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                    for plan in x86::Plan::all(kernel, ta, tb) {
                        let f = |m, n, k, al, a: &[f32], ta, b: &[f32], tb, be, c: &mut [f32]| {
                            // SAFETY: `kernel` comes from all_supported (features present),
                            // the plan from Plan::all (valid for ta, tb, kernel); check_with
                            // passes a, b, c with exactly m*k, k*n, m*n values, m, n, k > 0.
                            unsafe {
                                x86::sgemm(kernel, Some(plan), m, n, k, al, a, ta, b, tb, be, c)
                            }
                        };
                        let what = format!("{kernel:?} {plan:?}");
                        for &(alpha, beta) in SCALES {
                            check_with(&what, &f, m, n, k, ta, tb, alpha, beta);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn gemm_k_zero_scales_c() {
        let mut c = vec![1.0, f32::NAN, 3.0, 4.0];
        sgemm(2, 2, 0, 1.0, &[], false, &[], false, 0.0, &mut c);
        assert_eq!(c, [0.0; 4]);
        let mut c = vec![1.0, 2.0, 3.0, 4.0];
        sgemm(2, 2, 0, 1.0, &[], true, &[], true, 2.0, &mut c);
        assert_eq!(c, [2.0, 4.0, 6.0, 8.0]);
    }

    #[test]
    fn gemm_empty_shapes_touch_nothing() {
        let mut c = vec![7.0; 3];
        sgemm(0, 3, 4, 1.0, &[], false, &[0.0; 12], false, 0.0, &mut c);
        sgemm(3, 0, 4, 1.0, &[0.0; 12], false, &[], false, 0.0, &mut c);
        assert_eq!(c, [7.0; 3]);
    }

    #[test]
    fn gemm_beta_zero_ignores_nan_in_c() {
        for (m, n, k) in [(1, 1, 1), (3, 50, 20), (40, 70, 300)] {
            let a = fill(m * k, 9);
            let b = fill(k * n, 10);
            let mut c = vec![f32::NAN; m * n];
            sgemm(m, n, k, 1.0, &a, false, &b, false, 0.0, &mut c);
            assert!(c.iter().all(|x| x.is_finite()), "{m}x{n}x{k}");
        }
    }

    #[test]
    fn gemm_alpha_zero_does_not_read_a_or_b() {
        let a = [f32::NAN; 4];
        let b = [f32::INFINITY; 4];
        let mut c = [1.0, 2.0, 3.0, 4.0];
        sgemm(2, 2, 2, 0.0, &a, false, &b, false, 0.5, &mut c);
        assert_eq!(c, [0.5, 1.0, 1.5, 2.0]);
    }

    #[test]
    #[should_panic(expected = "sgemm: B has")]
    fn gemm_short_slice_panics() {
        let mut c = [0.0; 4];
        sgemm(
            2, 2, 2, 1.0, &[0.0; 4], false, &[0.0; 3], false, 0.0, &mut c,
        );
    }
}
