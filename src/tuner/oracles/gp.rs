//! The Gaussian process behind [`super::BayesianOptimization`], with the little numerics it
//! needs and nothing more: a dense Cholesky factorisation and triangular solves (n is at most
//! a few hundred trials, d a few dozen inputs, so a dependency would weigh more than the
//! code), a Matérn 5/2 kernel with one length scale per input (ARD), its log marginal
//! likelihood with analytic gradients, a bounded quasi-Newton minimiser (projected L-BFGS)
//! used both to fit the kernel and to optimise the acquisition, and the posterior mean and
//! variance with their gradients in the input.
//!
//! Matrices are row-major `Vec<f64>`; inputs are `n x d` row-major.

use crate::error::{Error, Result};
use crate::math;
use rand::rngs::StdRng;
use rand::Rng;

/// `sqrt(5)`, the Matérn 5/2 kernel's constant.
const SQRT5: f64 = 2.236_067_977_499_79;

/// Factorises the symmetric positive definite `n x n` matrix `a` in place into its lower
/// Cholesky factor (the upper triangle is zeroed). False when `a` is not numerically positive
/// definite.
pub fn cholesky(a: &mut [f64], n: usize) -> bool {
    if a.len() != n * n {
        return false;
    }
    for j in 0..n {
        // Rows up to j are final once row j is; rows below are updated from row j.
        let (done, below) = a.split_at_mut((j + 1) * n);
        let row_j = &mut done[j * n..];
        let mut diag = row_j[j];
        for v in &row_j[..j] {
            diag -= v * v;
        }
        if diag.is_nan() || diag <= 0.0 || !diag.is_finite() {
            return false;
        }
        let diag = diag.sqrt();
        row_j[j] = diag;
        for v in &mut row_j[j + 1..] {
            *v = 0.0;
        }
        let row_j = &done[j * n..];
        for row_i in below.chunks_exact_mut(n) {
            let s: f64 = row_i[..j].iter().zip(&row_j[..j]).map(|(p, q)| p * q).sum();
            row_i[j] = (row_i[j] - s) / diag;
        }
    }
    true
}

/// Solves `L x = b` in place for lower-triangular `L` (`n x n`, `b` of length `n`).
pub(crate) fn solve_lower(l: &[f64], n: usize, b: &mut [f64]) {
    for i in 0..n {
        let row = &l[i * n..i * n + i];
        let mut s = b[i];
        for (lv, bv) in row.iter().zip(&b[..i]) {
            s -= lv * bv;
        }
        b[i] = s / l[i * n + i];
    }
}

/// Solves `L^T x = b` in place for lower-triangular `L` (walking rows of `L`, which are
/// contiguous, rather than its columns).
pub(crate) fn solve_lower_transposed(l: &[f64], n: usize, b: &mut [f64]) {
    for i in (0..n).rev() {
        let xi = b[i] / l[i * n + i];
        b[i] = xi;
        let row = &l[i * n..i * n + i];
        for (bv, lv) in b[..i].iter_mut().zip(row) {
            *bv -= lv * xi;
        }
    }
}

/// `A^{-1}` from the lower Cholesky factor `L` of `A`: `L^{-T} L^{-1}`.
pub(crate) fn cholesky_inverse(l: &[f64], n: usize) -> Vec<f64> {
    // Rows of `linv_t` are columns of L^{-1}: column j solves L x = e_j.
    let mut cols = vec![0.0; n * n];
    for j in 0..n {
        let col = &mut cols[j * n..(j + 1) * n];
        col[j] = 1.0;
        // The first j entries stay zero (L^{-1} is lower triangular).
        for i in j..n {
            let mut s = col[i];
            for k in j..i {
                s -= l[i * n + k] * col[k];
            }
            col[i] = s / l[i * n + i];
        }
    }
    let mut inv = vec![0.0; n * n];
    for a in 0..n {
        for b in a..n {
            // (L^{-T} L^{-1})_{ab} = sum_k L^{-1}_{ka} L^{-1}_{kb}, non-zero for k >= max(a, b).
            let (ca, cb) = (&cols[a * n..(a + 1) * n], &cols[b * n..(b + 1) * n]);
            let s: f64 = ca[b..].iter().zip(&cb[b..]).map(|(x, y)| x * y).sum();
            inv[a * n + b] = s;
            inv[b * n + a] = s;
        }
    }
    inv
}

/// The Matérn 5/2 correlation at scaled distance `r`, and the factor `f` such that the
/// derivative of the kernel with respect to a log length scale is `f * delta^2 / l^2` and
/// with respect to an input coordinate is `-f * delta / l^2` (both times the signal variance).
/// Writing the derivatives this way cancels the `1 / r` that would blow up at `r = 0`.
fn matern52(r: f64) -> (f64, f64) {
    let e = math::exp(-SQRT5 * r);
    let k = (1.0 + SQRT5 * r + 5.0 / 3.0 * r * r) * e;
    let f = 5.0 / 3.0 * (1.0 + SQRT5 * r) * e;
    (k, f)
}

/// Kernel hyperparameters, in log space: one length scale per input, the signal variance and
/// the noise variance (added to the diagonal).
#[derive(Debug, Clone, PartialEq)]
pub struct GpParams {
    /// `ln` of each input's length scale.
    pub log_lengthscales: Vec<f64>,
    /// `ln` of the signal variance.
    pub log_signal_var: f64,
    /// `ln` of the noise variance.
    pub log_noise_var: f64,
}

impl GpParams {
    /// Length scales 0.5 (a unit cube's inputs), signal variance 1, the given noise.
    pub fn default_for(d: usize, noise_var: f64) -> Self {
        GpParams {
            log_lengthscales: vec![math::ln(0.5f64); d],
            log_signal_var: 0.0,
            log_noise_var: math::ln(noise_var.max(1e-300)),
        }
    }

    /// The flat vector the minimiser works on: length scales, signal, noise.
    pub fn to_vec(&self) -> Vec<f64> {
        let mut v = self.log_lengthscales.clone();
        v.push(self.log_signal_var);
        v.push(self.log_noise_var);
        v
    }

    /// The inverse of [`GpParams::to_vec`].
    pub fn from_vec(v: &[f64]) -> Result<Self> {
        if v.len() < 2 {
            return Err(Error::invalid(
                "GP parameters",
                v.len(),
                "at least 2 numbers (length scales, signal, noise)",
            ));
        }
        let d = v.len() - 2;
        Ok(GpParams {
            log_lengthscales: v[..d].to_vec(),
            log_signal_var: v[d],
            log_noise_var: v[d + 1],
        })
    }
}

/// Checks that `x` holds `n` rows of `d` finite numbers and `y` `n` finite numbers.
fn check_data(x: &[f64], d: usize, y: &[f64]) -> Result<usize> {
    let n = y.len();
    if x.len() != n * d {
        return Err(Error::shape("GP inputs", &[n, d], &[x.len()]));
    }
    if x.iter().chain(y).any(|v| !v.is_finite()) {
        return Err(Error::data("GP data holds a NaN or infinite value"));
    }
    Ok(n)
}

/// The log marginal likelihood of a fixed data set as a function of the kernel's log
/// hyperparameters. The squared per-input differences of every pair of points are computed
/// once, since the fit evaluates the likelihood many times on the same data.
pub struct Likelihood {
    n: usize,
    d: usize,
    y: Vec<f64>,
    /// For pair `p` (upper triangle, row by row, diagonal excluded): `d` squared differences.
    sq: Vec<f64>,
}

impl Likelihood {
    /// The likelihood of targets `y` at inputs `x` (`n x d`).
    pub fn new(x: &[f64], d: usize, y: &[f64]) -> Result<Self> {
        let n = check_data(x, d, y)?;
        let mut sq = Vec::with_capacity(n * n.saturating_sub(1) / 2 * d);
        for a in 0..n {
            for b in (a + 1)..n {
                for k in 0..d {
                    let t = x[a * d + k] - x[b * d + k];
                    sq.push(t * t);
                }
            }
        }
        Ok(Likelihood {
            n,
            d,
            y: y.to_vec(),
            sq,
        })
    }

    /// The log marginal likelihood at `theta` (see [`GpParams::to_vec`]) with its gradient
    /// written into `grad`; `None` when the kernel matrix is not positive definite there.
    pub fn eval(&self, theta: &[f64], grad: &mut [f64]) -> Option<f64> {
        let (n, d) = (self.n, self.d);
        if theta.len() != d + 2 || grad.len() != d + 2 {
            return None;
        }
        let inv_l2: Vec<f64> = theta[..d].iter().map(|t| math::exp(-2.0 * t)).collect();
        let sf2 = math::exp(theta[d]);
        let noise = math::exp(theta[d + 1]);
        let mut k = vec![0.0; n * n];
        let mut fac = Vec::with_capacity(self.sq.len() / d.max(1));
        let mut p = 0;
        for a in 0..n {
            k[a * n + a] = sf2 + noise;
            for b in (a + 1)..n {
                let sq = &self.sq[p * d..(p + 1) * d];
                let r2: f64 = sq.iter().zip(&inv_l2).map(|(s, w)| s * w).sum();
                let (c, f) = matern52(r2.sqrt());
                k[a * n + b] = sf2 * c;
                k[b * n + a] = sf2 * c;
                fac.push(sf2 * f);
                p += 1;
            }
        }
        let mut l = k.clone();
        if !cholesky(&mut l, n) {
            return None;
        }
        let mut alpha = self.y.clone();
        solve_lower(&l, n, &mut alpha);
        let quad: f64 = alpha.iter().map(|v| v * v).sum();
        solve_lower_transposed(&l, n, &mut alpha);
        let log_det: f64 = (0..n).map(|i| math::ln(l[i * n + i])).sum();
        let lml = -0.5 * quad - log_det - 0.5 * n as f64 * math::ln(2.0 * std::f64::consts::PI);

        // d lml / d theta = 1/2 tr((alpha alpha^T - K^{-1}) dK/dtheta).
        let kinv = cholesky_inverse(&l, n);
        grad.iter_mut().for_each(|g| *g = 0.0);
        let mut p = 0;
        let mut g_sf = 0.0;
        let mut g_noise = 0.0;
        for a in 0..n {
            let w_aa = alpha[a] * alpha[a] - kinv[a * n + a];
            g_sf += 0.5 * w_aa * sf2;
            g_noise += 0.5 * w_aa * noise;
            for b in (a + 1)..n {
                let w = alpha[a] * alpha[b] - kinv[a * n + b];
                // Both (a, b) and (b, a): the halves cancel.
                g_sf += w * k[a * n + b];
                let wf = w * fac[p];
                let sq = &self.sq[p * d..(p + 1) * d];
                for ((g, s), il2) in grad[..d].iter_mut().zip(sq).zip(&inv_l2) {
                    *g += wf * s * il2;
                }
                p += 1;
            }
        }
        grad[d] = g_sf;
        grad[d + 1] = g_noise;
        Some(lml)
    }
}

/// Bounds and restarts for fitting the kernel's hyperparameters.
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// Length-scale range (not log).
    pub lengthscale_bounds: (f64, f64),
    /// Signal-variance range (not log), for targets normalised to unit variance.
    pub signal_var_bounds: (f64, f64),
    /// Noise-variance range (not log); equal ends fix the noise.
    pub noise_var_bounds: (f64, f64),
    /// Random starting points besides the default one and the warm start.
    pub restarts: usize,
    /// Quasi-Newton iterations per start.
    pub max_iter: usize,
    /// A half-normal penalty `(mean, sd)` on each log length scale above `mean` (a MAP fit
    /// rather than plain maximum likelihood). With a handful of points in several
    /// dimensions, maximum likelihood readily explains the data with some inputs switched off
    /// (length scale at the upper bound), and the search then ignores those inputs; the
    /// penalty makes switching an input off cost evidence, while leaving short length scales
    /// free. `None` for plain maximum likelihood.
    pub long_lengthscale_penalty: Option<(f64, f64)>,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            lengthscale_bounds: (1e-3, 1e3),
            signal_var_bounds: (1e-2, 1e2),
            noise_var_bounds: (1e-4, 1e-4),
            restarts: 3,
            max_iter: 60,
            long_lengthscale_penalty: None,
        }
    }
}

/// A Gaussian process posterior: data, kernel hyperparameters and the factorised kernel
/// matrix. Targets are taken as given (zero prior mean): callers normalise them.
#[derive(Debug, Clone)]
pub struct GaussianProcess {
    x: Vec<f64>,
    n: usize,
    d: usize,
    params: GpParams,
    inv_l2: Vec<f64>,
    sf2: f64,
    chol: Vec<f64>,
    alpha: Vec<f64>,
}

impl GaussianProcess {
    /// The posterior given data `x` (`n x d`), targets `y` and hyperparameters. When the
    /// kernel matrix is too ill-conditioned to factorise (points nearly on top of each other),
    /// growing jitter is added to its diagonal before giving up with an error.
    pub fn new(x: Vec<f64>, d: usize, y: &[f64], params: GpParams) -> Result<Self> {
        let n = check_data(&x, d, y)?;
        if params.log_lengthscales.len() != d {
            return Err(Error::shape(
                "GP length scales",
                &[d],
                &[params.log_lengthscales.len()],
            ));
        }
        let inv_l2: Vec<f64> = params
            .log_lengthscales
            .iter()
            .map(|t| math::exp(-2.0 * t))
            .collect();
        let sf2 = math::exp(params.log_signal_var);
        let noise = math::exp(params.log_noise_var);
        let mut k = vec![0.0; n * n];
        for a in 0..n {
            for b in a..n {
                let v = sf2
                    * matern52(scaled_dist(
                        &x[a * d..(a + 1) * d],
                        &x[b * d..(b + 1) * d],
                        &inv_l2,
                    ))
                    .0;
                k[a * n + b] = v;
                k[b * n + a] = v;
            }
        }
        let mut jitter = 0.0;
        for attempt in 0..8 {
            let mut l = k.clone();
            for i in 0..n {
                l[i * n + i] += noise + jitter;
            }
            if cholesky(&mut l, n) {
                let mut alpha = y.to_vec();
                solve_lower(&l, n, &mut alpha);
                solve_lower_transposed(&l, n, &mut alpha);
                return Ok(GaussianProcess {
                    x,
                    n,
                    d,
                    params,
                    inv_l2,
                    sf2,
                    chol: l,
                    alpha,
                });
            }
            jitter = sf2 * 1e-10 * 100f64.powi(attempt);
        }
        Err(Error::data(
            "the GP kernel matrix is not positive definite, even with jitter",
        ))
    }

    /// Fits the hyperparameters to data `x` (`n x d`), `y` by maximising the log marginal
    /// likelihood (less the length-scale penalty, if any) from the default start, `warm` and
    /// `opts.restarts` random starts, and returns the posterior at the best.
    pub fn fit(
        x: Vec<f64>,
        d: usize,
        y: &[f64],
        opts: &FitOptions,
        warm: Option<&GpParams>,
        rng: &mut StdRng,
    ) -> Result<Self> {
        let params = fit_params(&x, d, y, opts, warm, rng)?;
        GaussianProcess::new(x, d, y, params)
    }

    /// The fitted hyperparameters.
    pub fn params(&self) -> &GpParams {
        &self.params
    }

    /// Number of data points.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether the posterior has no data (it is then the prior).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Input dimension.
    pub fn dim(&self) -> usize {
        self.d
    }

    /// The posterior mean and variance (of the latent function, noise excluded) at `xs`.
    pub fn predict(&self, xs: &[f64]) -> Result<(f64, f64)> {
        let (n, d) = (self.n, self.d);
        if xs.len() != d {
            return Err(Error::shape("GP query point", &[d], &[xs.len()]));
        }
        let mut ks = vec![0.0; n];
        for (i, kv) in ks.iter_mut().enumerate() {
            *kv = self.sf2 * matern52(scaled_dist(xs, &self.x[i * d..(i + 1) * d], &self.inv_l2)).0;
        }
        let mean: f64 = ks.iter().zip(&self.alpha).map(|(a, b)| a * b).sum();
        solve_lower(&self.chol, n, &mut ks);
        let var = self.sf2 - ks.iter().map(|v| v * v).sum::<f64>();
        Ok((mean, var.max(0.0)))
    }

    /// [`GaussianProcess::predict`] plus the gradients of mean and variance in `xs`, written
    /// into `dmean` and `dvar`.
    pub fn predict_with_grad(
        &self,
        xs: &[f64],
        dmean: &mut [f64],
        dvar: &mut [f64],
    ) -> Result<(f64, f64)> {
        let (n, d) = (self.n, self.d);
        for (what, len) in [("GP query point", xs.len()), ("mean gradient", dmean.len())] {
            if len != d {
                return Err(Error::shape(what, &[d], &[len]));
            }
        }
        if dvar.len() != d {
            return Err(Error::shape("variance gradient", &[d], &[dvar.len()]));
        }
        let mut ks = vec![0.0; n];
        // dk_i/dxs_j = -sf2 * f_i * (xs_j - x_ij) / l_j^2: keep sf2 * f_i per point.
        let mut fs = vec![0.0; n];
        for i in 0..n {
            let (c, f) = matern52(scaled_dist(xs, &self.x[i * d..(i + 1) * d], &self.inv_l2));
            ks[i] = self.sf2 * c;
            fs[i] = self.sf2 * f;
        }
        let mean: f64 = ks.iter().zip(&self.alpha).map(|(a, b)| a * b).sum();
        let mut v = ks;
        solve_lower(&self.chol, n, &mut v);
        let var = self.sf2 - v.iter().map(|t| t * t).sum::<f64>();
        // w = K^{-1} k*, so d var / d xs = -2 w^T dk*/dxs.
        solve_lower_transposed(&self.chol, n, &mut v);
        let w = v;
        dmean.iter_mut().for_each(|g| *g = 0.0);
        dvar.iter_mut().for_each(|g| *g = 0.0);
        for i in 0..n {
            let xi = &self.x[i * d..(i + 1) * d];
            let (ca, cw) = (self.alpha[i] * fs[i], w[i] * fs[i]);
            for j in 0..d {
                let t = (xs[j] - xi[j]) * self.inv_l2[j];
                dmean[j] -= ca * t;
                dvar[j] += 2.0 * cw * t;
            }
        }
        if var <= 0.0 {
            dvar.iter_mut().for_each(|g| *g = 0.0);
        }
        Ok((mean, var.max(0.0)))
    }
}

/// The hyperparameters [`GaussianProcess::fit`] would choose for this data (useful to fit
/// on a subset and condition on everything).
pub fn fit_params(
    x: &[f64],
    d: usize,
    y: &[f64],
    opts: &FitOptions,
    warm: Option<&GpParams>,
    rng: &mut StdRng,
) -> Result<GpParams> {
    let lik = Likelihood::new(x, d, y)?;
    for (what, (a, b)) in [
        ("lengthscale_bounds", opts.lengthscale_bounds),
        ("signal_var_bounds", opts.signal_var_bounds),
        ("noise_var_bounds", opts.noise_var_bounds),
    ] {
        if !(a.is_finite() && b.is_finite() && a > 0.0 && a <= b) {
            return Err(Error::invalid(
                what,
                format!("({a}, {b})"),
                "finite numbers 0 < low <= high",
            ));
        }
    }
    let (lo, hi) = param_bounds(d, opts);
    let noise0 = (opts.noise_var_bounds.0 * opts.noise_var_bounds.1).sqrt();
    let mut starts = vec![GpParams::default_for(d, noise0).to_vec()];
    if let Some(w) = warm {
        if w.log_lengthscales.len() == d {
            starts.push(w.to_vec());
        }
    }
    for _ in 0..opts.restarts {
        let mut s: Vec<f64> = (0..d)
            .map(|_| rng.random_range(math::ln(0.05f64)..math::ln(2f64)))
            .collect();
        s.push(rng.random_range(math::ln(0.3f64)..math::ln(3f64)));
        s.push(math::ln(noise0));
        starts.push(s);
    }
    let penalty = opts.long_lengthscale_penalty;
    // The minimiser minimises: hand it the negated (penalised) log likelihood.
    let objective = |theta: &[f64], grad: &mut [f64]| -> f64 {
        let Some(mut v) = lik.eval(theta, grad) else {
            return f64::INFINITY;
        };
        if let Some((m, s)) = penalty {
            for (t, g) in theta[..d].iter().zip(grad.iter_mut()) {
                if *t > m {
                    v -= 0.5 * ((t - m) / s).powi(2);
                    *g -= (t - m) / (s * s);
                }
            }
        }
        grad.iter_mut().for_each(|g| *g = -*g);
        -v
    };
    let mut best: Option<(f64, Vec<f64>)> = None;
    for s in starts {
        let (t, f) = minimize_bounded(objective, &s, &lo, &hi, None, opts.max_iter)?;
        if f.is_finite() && best.as_ref().is_none_or(|(bf, _)| f < *bf) {
            best = Some((f, t));
        }
    }
    match best {
        Some((_, t)) => GpParams::from_vec(&t),
        // Every start failed to factorise: the default (the posterior's jitter copes).
        None => Ok(GpParams::default_for(d, noise0)),
    }
}

/// The distance between `a` and `b` scaled by the length scales (`inv_l2` holds `1 / l^2`).
fn scaled_dist(a: &[f64], b: &[f64], inv_l2: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .zip(inv_l2)
        .map(|((x, y), w)| (x - y) * (x - y) * w)
        .sum::<f64>()
        .sqrt()
}

/// The log-space box the fit searches, from `opts`.
fn param_bounds(d: usize, opts: &FitOptions) -> (Vec<f64>, Vec<f64>) {
    let mut lo = vec![math::ln(opts.lengthscale_bounds.0); d];
    let mut hi = vec![math::ln(opts.lengthscale_bounds.1); d];
    lo.push(math::ln(opts.signal_var_bounds.0));
    hi.push(math::ln(opts.signal_var_bounds.1));
    lo.push(math::ln(opts.noise_var_bounds.0));
    hi.push(math::ln(opts.noise_var_bounds.1));
    (lo, hi)
}

/// Minimises `f` over the box `[lo, hi]` from `x0` by projected L-BFGS: the quasi-Newton
/// direction is computed on the variables not held at a bound by their gradient, and a
/// backtracking (Armijo) line search runs along the projected path. `fixed` marks variables
/// that must not move (e.g. categorical one-hot inputs). `f` writes its gradient into its
/// second argument and may return infinity where it is undefined. Returns the best point and
/// its value; an error when the bounds do not fit `x0` or are not ordered numbers.
pub fn minimize_bounded(
    mut f: impl FnMut(&[f64], &mut [f64]) -> f64,
    x0: &[f64],
    lo: &[f64],
    hi: &[f64],
    fixed: Option<&[bool]>,
    max_iter: usize,
) -> Result<(Vec<f64>, f64)> {
    const MEMORY: usize = 8;
    let m = x0.len();
    for (what, len) in [("lower bounds", lo.len()), ("upper bounds", hi.len())] {
        if len != m {
            return Err(Error::shape(what, &[m], &[len]));
        }
    }
    if let Some(i) = (0..m).find(|&i| lo[i].is_nan() || hi[i].is_nan() || lo[i] > hi[i]) {
        return Err(Error::invalid(
            format!("bounds of variable {i}"),
            format!("[{}, {}]", lo[i], hi[i]),
            "numbers with lower <= upper",
        ));
    }
    let is_fixed = |i: usize| fixed.is_some_and(|fx| fx.get(i).copied().unwrap_or(false));
    let project = |x: &mut [f64]| {
        for ((v, l), h) in x.iter_mut().zip(lo).zip(hi) {
            *v = v.clamp(*l, *h);
        }
    };
    let mut x = x0.to_vec();
    project(&mut x);
    let mut g = vec![0.0; m];
    let mut fx = f(&x, &mut g);
    if !fx.is_finite() {
        return Ok((x, fx));
    }
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut g_new = vec![0.0; m];
    for _ in 0..max_iter {
        // Variables held at a bound by the gradient, or fixed, do not take part.
        let free: Vec<bool> = (0..m)
            .map(|i| {
                !(is_fixed(i)
                    || (x[i] <= lo[i] && g[i] > 0.0)
                    || (x[i] >= hi[i] && g[i] < 0.0)
                    || lo[i] >= hi[i])
            })
            .collect();
        let gnorm = (0..m)
            .filter(|&i| free[i])
            .map(|i| g[i].abs())
            .fold(0.0, f64::max);
        if gnorm < 1e-9 {
            break;
        }
        // Two-loop recursion on the free variables.
        let mut q: Vec<f64> = (0..m).map(|i| if free[i] { g[i] } else { 0.0 }).collect();
        let dot = |a: &[f64], b: &[f64]| -> f64 {
            (0..m).filter(|&i| free[i]).map(|i| a[i] * b[i]).sum()
        };
        let k = s_hist.len();
        let mut alphas = vec![0.0; k];
        let mut rhos = vec![0.0; k];
        for j in (0..k).rev() {
            let sy = dot(&s_hist[j], &y_hist[j]);
            rhos[j] = if sy > 0.0 { 1.0 / sy } else { 0.0 };
            alphas[j] = rhos[j] * dot(&s_hist[j], &q);
            for i in 0..m {
                if free[i] {
                    q[i] -= alphas[j] * y_hist[j][i];
                }
            }
        }
        let scale = match k {
            0 => 1.0 / gnorm.max(1.0),
            _ => {
                let (s, y) = (&s_hist[k - 1], &y_hist[k - 1]);
                let yy = dot(y, y);
                if yy > 0.0 {
                    (dot(s, y) / yy).max(1e-10)
                } else {
                    1.0
                }
            }
        };
        q.iter_mut().for_each(|v| *v *= scale);
        for j in 0..k {
            let beta = rhos[j] * dot(&y_hist[j], &q);
            for i in 0..m {
                if free[i] {
                    q[i] += (alphas[j] - beta) * s_hist[j][i];
                }
            }
        }
        let mut dir: Vec<f64> = q.iter().map(|v| -v).collect();
        if dot(&dir, &g) >= 0.0 {
            // Not a descent direction: fall back to steepest descent and forget the history.
            dir = (0..m)
                .map(|i| if free[i] { -g[i] * scale } else { 0.0 })
                .collect();
            s_hist.clear();
            y_hist.clear();
        }
        // Backtracking along the projected path.
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..30 {
            let mut xn: Vec<f64> = x.iter().zip(&dir).map(|(a, b)| a + t * b).collect();
            project(&mut xn);
            let decrease: f64 = (0..m).map(|i| g[i] * (xn[i] - x[i])).sum();
            if decrease >= 0.0 {
                // The projection left no descent (e.g. every free step ran into a bound).
                t *= 0.5;
                continue;
            }
            let fnew = f(&xn, &mut g_new);
            if fnew.is_finite() && fnew <= fx + 1e-4 * decrease {
                accepted = Some((xn, fnew));
                break;
            }
            t *= 0.5;
        }
        let Some((xn, fnew)) = accepted else {
            if s_hist.is_empty() {
                break;
            }
            s_hist.clear();
            y_hist.clear();
            continue;
        };
        let s: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy: f64 = s.iter().zip(&y).map(|(a, b)| a * b).sum();
        if sy > 1e-12 {
            if s_hist.len() == MEMORY {
                s_hist.remove(0);
                y_hist.remove(0);
            }
            s_hist.push(s);
            y_hist.push(y);
        }
        let improvement = fx - fnew;
        x = xn;
        fx = fnew;
        g.copy_from_slice(&g_new);
        if improvement <= 1e-10 * fx.abs().max(1.0) {
            break;
        }
    }
    Ok((x, fx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn random_points(n: usize, d: usize, seed: u64) -> Vec<f64> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n * d).map(|_| rng.random::<f64>()).collect()
    }

    fn smooth(x: &[f64]) -> f64 {
        math::sin(3.0 * x[0]) + x[1] * x[1] - 0.5 * x[0] * x[1]
    }

    fn params(d: usize, ls: f64, noise: f64) -> GpParams {
        GpParams {
            log_lengthscales: vec![math::ln(ls); d],
            log_signal_var: 0.0,
            log_noise_var: math::ln(noise),
        }
    }

    #[test]
    fn cholesky_factorises_solves_and_inverts() {
        let n = 7;
        let b = random_points(n, n, 1);
        // A = B B^T + I is symmetric positive definite.
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = (0..n).map(|k| b[i * n + k] * b[j * n + k]).sum::<f64>()
                    + if i == j { 1.0 } else { 0.0 };
            }
        }
        let mut l = a.clone();
        assert!(cholesky(&mut l, n));
        for i in 0..n {
            for j in 0..n {
                let llt: f64 = (0..n).map(|k| l[i * n + k] * l[j * n + k]).sum();
                assert!(
                    (llt - a[i * n + j]).abs() < 1e-12,
                    "L L^T differs at {i},{j}"
                );
                if j > i {
                    assert_eq!(l[i * n + j], 0.0);
                }
            }
        }
        let rhs: Vec<f64> = (0..n).map(|i| i as f64 - 2.5).collect();
        let mut x = rhs.clone();
        solve_lower(&l, n, &mut x);
        solve_lower_transposed(&l, n, &mut x);
        for i in 0..n {
            let ax: f64 = (0..n).map(|k| a[i * n + k] * x[k]).sum();
            assert!((ax - rhs[i]).abs() < 1e-10);
        }
        let inv = cholesky_inverse(&l, n);
        for i in 0..n {
            for j in 0..n {
                let v: f64 = (0..n).map(|k| inv[i * n + k] * a[k * n + j]).sum();
                assert!((v - if i == j { 1.0 } else { 0.0 }).abs() < 1e-10);
            }
        }
        // Not positive definite: refused, not a panic or NaNs.
        let mut bad = vec![1.0, 2.0, 2.0, 1.0];
        assert!(!cholesky(&mut bad, 2));
        assert!(!cholesky(&mut [1.0, 0.0, 0.0], 2));
    }

    #[test]
    fn posterior_mean_interpolates_noiseless_data() {
        let (n, d) = (15, 2);
        let x = random_points(n, d, 2);
        let y: Vec<f64> = x.chunks(d).map(smooth).collect();
        let gp = GaussianProcess::new(x.clone(), d, &y, params(d, 0.4, 1e-10)).unwrap();
        for (xi, yi) in x.chunks(d).zip(&y) {
            let (mean, var) = gp.predict(xi).unwrap();
            assert!((mean - yi).abs() < 1e-4, "mean {mean} vs {yi}");
            assert!(var < 1e-6, "variance {var} at an observed point");
        }
    }

    #[test]
    fn variance_shrinks_at_observed_points() {
        let d = 2;
        // Data in the lower-left quarter only.
        let x: Vec<f64> = random_points(10, d, 3).iter().map(|v| v * 0.5).collect();
        let y: Vec<f64> = x.chunks(d).map(smooth).collect();
        let gp = GaussianProcess::new(x.clone(), d, &y, params(d, 0.3, 1e-6)).unwrap();
        let (_, at_data) = gp.predict(&x[..d]).unwrap();
        let (_, near) = gp.predict(&[x[0] + 0.05, x[1]]).unwrap();
        let (_, far) = gp.predict(&[1.0, 1.0]).unwrap();
        assert!(at_data < 1e-5, "{at_data}");
        assert!(near > at_data && far > near, "{at_data} {near} {far}");
        // Far from every point the posterior is the prior (signal variance 1).
        assert!(far > 0.9, "{far}");
    }

    #[test]
    fn likelihood_gradient_matches_finite_differences() {
        let (n, d) = (12, 3);
        let x = random_points(n, d, 4);
        let y: Vec<f64> = x.chunks(d).map(|r| smooth(r) + r[2]).collect();
        let lik = Likelihood::new(&x, d, &y).unwrap();
        let theta = vec![-1.0, 0.3, -0.2, 0.4, math::ln(1e-2f64)];
        let mut grad = vec![0.0; d + 2];
        lik.eval(&theta, &mut grad).unwrap();
        let mut scratch = vec![0.0; d + 2];
        for i in 0..d + 2 {
            let h = 1e-5;
            let (mut tp, mut tm) = (theta.clone(), theta.clone());
            tp[i] += h;
            tm[i] -= h;
            let fd = (lik.eval(&tp, &mut scratch).unwrap() - lik.eval(&tm, &mut scratch).unwrap())
                / (2.0 * h);
            assert!(
                (fd - grad[i]).abs() < 1e-6 * (1.0 + fd.abs()),
                "d/dtheta[{i}]: analytic {} vs finite differences {fd}",
                grad[i]
            );
        }
    }

    #[test]
    fn prediction_gradients_match_finite_differences() {
        let (n, d) = (9, 3);
        let x = random_points(n, d, 5);
        let y: Vec<f64> = x.chunks(d).map(smooth).collect();
        let mut p = params(d, 0.5, 1e-4);
        p.log_lengthscales = vec![math::ln(0.3f64), math::ln(0.6f64), math::ln(1.2f64)];
        let gp = GaussianProcess::new(x, d, &y, p).unwrap();
        let z = [0.31, 0.72, 0.45];
        let (mut dm, mut dv) = (vec![0.0; d], vec![0.0; d]);
        gp.predict_with_grad(&z, &mut dm, &mut dv).unwrap();
        for j in 0..d {
            let h = 1e-6;
            let (mut zp, mut zm) = (z, z);
            zp[j] += h;
            zm[j] -= h;
            let (mp, vp) = gp.predict(&zp).unwrap();
            let (mm, vm) = gp.predict(&zm).unwrap();
            let (fdm, fdv) = ((mp - mm) / (2.0 * h), (vp - vm) / (2.0 * h));
            assert!((fdm - dm[j]).abs() < 1e-6, "mean {j}: {} vs {fdm}", dm[j]);
            assert!(
                (fdv - dv[j]).abs() < 1e-6,
                "variance {j}: {} vs {fdv}",
                dv[j]
            );
        }
    }

    #[test]
    fn the_fit_finds_which_input_matters() {
        let (n, d) = (30, 2);
        let x = random_points(n, d, 6);
        // Only the first input matters.
        let y: Vec<f64> = x.chunks(d).map(|r| math::sin(4.0 * r[0])).collect();
        let mut rng = StdRng::seed_from_u64(0);
        let gp = GaussianProcess::fit(x, d, &y, &FitOptions::default(), None, &mut rng).unwrap();
        let ls: Vec<f64> = gp
            .params()
            .log_lengthscales
            .iter()
            .map(|v| math::exp(*v))
            .collect();
        assert!(ls[1] > 10.0 * ls[0], "length scales {ls:?}");
        let (mean, _) = gp.predict(&[0.3, 0.9]).unwrap();
        assert!((mean - math::sin(1.2f64)).abs() < 0.05, "{mean}");
    }

    #[test]
    fn the_minimiser_respects_bounds_and_fixed_variables() {
        // A shifted quadratic whose unconstrained minimum is outside the box.
        let c = [0.3, 1.5, -0.2];
        let f = |x: &[f64], g: &mut [f64]| -> f64 {
            let mut v = 0.0;
            for i in 0..3 {
                v += (i as f64 + 1.0) * (x[i] - c[i]).powi(2);
                g[i] = 2.0 * (i as f64 + 1.0) * (x[i] - c[i]);
            }
            v
        };
        let (x, _) =
            minimize_bounded(f, &[0.9, 0.1, 0.5], &[0.0; 3], &[1.0; 3], None, 100).unwrap();
        assert!(
            (x[0] - 0.3).abs() < 1e-6 && x[1] == 1.0 && x[2] == 0.0,
            "{x:?}"
        );
        let fixed = [false, true, false];
        let (x, _) =
            minimize_bounded(f, &[0.9, 0.1, 0.5], &[0.0; 3], &[1.0; 3], Some(&fixed), 100).unwrap();
        assert!(x[1] == 0.1 && (x[0] - 0.3).abs() < 1e-6, "{x:?}");
        // Bounds that do not fit: errors, not panics.
        assert!(minimize_bounded(f, &[0.5; 3], &[0.0; 2], &[1.0; 3], None, 10).is_err());
        assert!(minimize_bounded(f, &[0.5; 3], &[0.0, 2.0, 0.0], &[1.0; 3], None, 10).is_err());
        assert!(minimize_bounded(f, &[0.5; 3], &[f64::NAN; 3], &[1.0; 3], None, 10).is_err());
        // Rosenbrock's valley, from the classic start.
        let rosen = |x: &[f64], g: &mut [f64]| -> f64 {
            g[0] = -400.0 * x[0] * (x[1] - x[0] * x[0]) - 2.0 * (1.0 - x[0]);
            g[1] = 200.0 * (x[1] - x[0] * x[0]);
            100.0 * (x[1] - x[0] * x[0]).powi(2) + (1.0 - x[0]).powi(2)
        };
        let (x, fx) =
            minimize_bounded(rosen, &[-1.2, 1.0], &[-2.0; 2], &[2.0; 2], None, 500).unwrap();
        assert!(fx < 1e-8 && (x[0] - 1.0).abs() < 1e-3, "{x:?} {fx}");
    }

    #[test]
    fn bad_data_is_an_error() {
        let p = params(2, 0.5, 1e-4);
        assert!(GaussianProcess::new(vec![0.0; 5], 2, &[1.0, 2.0], p.clone()).is_err());
        assert!(GaussianProcess::new(vec![0.0, f64::NAN], 2, &[1.0], p.clone()).is_err());
        assert!(GaussianProcess::new(vec![0.0; 2], 2, &[1.0], params(3, 0.5, 1e-4)).is_err());
        assert!(GpParams::from_vec(&[1.0]).is_err());
        let gp = GaussianProcess::new(vec![0.1, 0.2], 2, &[1.0], p.clone()).unwrap();
        assert!(gp.predict(&[0.5]).is_err());
        let (mut g, mut short) = (vec![0.0; 2], vec![0.0; 1]);
        assert!(gp
            .predict_with_grad(&[0.5, 0.5], &mut g, &mut short)
            .is_err());
        let mut rng = StdRng::seed_from_u64(0);
        let bad = FitOptions {
            noise_var_bounds: (1.0, 0.5),
            ..Default::default()
        };
        assert!(GaussianProcess::fit(vec![0.1, 0.2], 2, &[1.0], &bad, None, &mut rng).is_err());
        // Two identical points with no noise: rescued by jitter, not an error.
        let gp = GaussianProcess::new(
            vec![0.5, 0.5, 0.5, 0.5],
            2,
            &[1.0, 1.0],
            params(2, 0.5, 1e-300),
        );
        assert!(gp.is_ok());
    }
}
