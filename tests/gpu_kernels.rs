//! Every WGSL kernel, one launch at a time, against the CPU reference (`backend::Cpu` and the
//! nn formulas). Tolerance: 1e-5 relative to the magnitude of the terms summed (f32 sums in
//! another order), 1e-6 absolute for elementwise kernels. Shapes include 1-row batches, sizes
//! that are not multiples of the 32x32 tile, wide and narrow layers, and several models in one
//! launch. Natively on whatever adapter wgpu finds (lavapipe in CI); skipped loudly without.
#![cfg(not(target_arch = "wasm32"))]

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tunelab::backend::{hash_uniform, Backend, Cpu};
use tunelab::gpu::group::{run_launches, ModelStep, StepRecord};
use tunelab::gpu::kernels::{self, Dim, Drop, Epilogue, Launch, Matmul, Operand, Table};
use tunelab::gpu::Kernel;
use tunelab::ops::activations::Activation;
use tunelab::ops::losses::{Loss, LossKind};
use tunelab::ops::optimizers::{Optimizer, OptimizerKind};
use tunelab::ops::regularizers::Regularizer;
use tunelab::runtime::block_on;

mod common;
use common::gpu;

fn rand_vec(rng: &mut StdRng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

fn step(rows: usize, models: usize, training: bool, counter: u64) -> StepRecord {
    let info = Optimizer::new(OptimizerKind::Adam).step_info(counter, 0.01, 1.0);
    StepRecord {
        rows,
        cursor: 0,
        training,
        log_step: 0,
        models: (0..models)
            .map(|_| ModelStep {
                active: true,
                counter,
                hinge_binary: false,
                info,
            })
            .collect(),
    }
}

fn assert_close(got: &[f32], want: &[f32], scale: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let tol = 1e-5 * scale.max(w.abs()).max(1.0) + 1e-6;
        assert!((g - w).abs() <= tol, "{what}[{i}]: gpu {g} vs cpu {w}");
    }
}

/// Lays out several arrays in one arena; returns offsets.
struct Arena {
    data: Vec<f32>,
}

impl Arena {
    fn new() -> Self {
        Arena { data: Vec::new() }
    }
    fn put(&mut self, v: &[f32]) -> usize {
        let at = self.data.len().div_ceil(4) * 4;
        self.data.resize(at, 0.0);
        self.data.extend_from_slice(v);
        at
    }
    fn zeros(&mut self, n: usize) -> usize {
        self.put(&vec![0.0; n])
    }
}

#[test]
fn matmul_all_transposes_and_odd_shapes() {
    let Some(g) = gpu() else { return };
    let mut rng = StdRng::seed_from_u64(1);
    let shapes = [
        (1, 1, 1),
        (1, 10, 64),
        (33, 65, 17),
        (100, 3, 257),
        (7, 300, 5),
        (64, 32, 32),
        (128, 256, 784),
    ];
    // Both variants (the adapter picks one for `Kernel::Matmul`; both are checked here).
    for variant in [Kernel::MatmulTiled, Kernel::MatmulDirect] {
        for &(m, n, k) in &shapes {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = rand_vec(&mut rng, m * k);
                let b = rand_vec(&mut rng, k * n);
                let mut want = vec![0.0; m * n];
                Cpu.matmul(m, n, k, &a, ta, &b, tb, 0.0, &mut want);
                let mut ar = Arena::new();
                let ao = ar.put(&a);
                let bo = ar.put(&b);
                let co = ar.zeros(m * n);
                let op = |off, t: bool, rows: usize, cols: usize| {
                    // stored rows x cols when not transposed, cols x rows when transposed
                    if t {
                        Operand::transposed(off, rows)
                    } else {
                        Operand::plain(off, cols)
                    }
                };
                let mut t = Table::new(1);
                let l = kernels::matmul(
                    &mut t,
                    &[Some(Matmul {
                        m: Dim::Rows { max: m },
                        n,
                        k: Dim::Fixed(k),
                        a: op(ao, ta, m, k),
                        b: op(bo, tb, k, n),
                        c_off: co,
                        epilogue: Epilogue::KernelGrad {
                            w_off: 0,
                            l1: 0.0,
                            l2: 0.0,
                        },
                    })],
                );
                let l = Launch {
                    kernel: variant,
                    ..l
                };
                let out = block_on(run_launches(
                    &g,
                    &ar.data,
                    &[0.0],
                    &[0],
                    &t,
                    &[l],
                    &step(m, 1, false, 0),
                ))
                .unwrap();
                assert_close(
                    &out[co..co + m * n],
                    &want,
                    k as f32,
                    &format!("{variant:?} {m}x{n}x{k} ta={ta} tb={tb}"),
                );
            }
        }
    }
}

#[test]
fn matmul_epilogues_match_the_layer_ops() {
    let Some(g) = gpu() else { return };
    let mut rng = StdRng::seed_from_u64(2);
    let (m, n, k) = (37, 45, 29);
    for act in tunelab::ops::activations::ACTIVATION_NAMES
        .iter()
        .map(|a| Activation::parse(a).unwrap())
    {
        if act == Activation::Softmax {
            continue; // a row op: activation.wgsl, tested below
        }
        let x = rand_vec(&mut rng, m * k);
        let w = rand_vec(&mut rng, k * n);
        let bias = rand_vec(&mut rng, n);
        let drop = Drop {
            rate: 0.3,
            seed: 0xDEAD_BEEF_1234,
        };
        // forward: z = xW + b, y = dropout(act(z))
        let mut z = vec![0.0; m * n];
        Cpu.matmul(m, n, k, &x, false, &w, false, 0.0, &mut z);
        Cpu.bias_add(n, &bias, &mut z);
        let mut y = vec![0.0; m * n];
        Cpu.activation_forward(act, n, &z, &mut y);
        let mut yd = vec![0.0; m * n];
        let mut mask = vec![0.0; m * n];
        Cpu.dropout(drop.rate, drop.seed, 42, &y, &mut yd, &mut mask);
        let mut ar = Arena::new();
        let xo = ar.put(&x);
        let wo = ar.put(&w);
        let bo = ar.put(&bias);
        let zo = ar.zeros(m * n);
        let yo = ar.zeros(m * n);
        // input gradient of a layer below with this activation: dx = (dy W^T) * mask * act'(z)
        let dy = rand_vec(&mut rng, m * k);
        let w2 = rand_vec(&mut rng, n * k);
        let dyo = ar.put(&dy);
        let w2o = ar.put(&w2);
        let dxo = ar.zeros(m * n);
        let mut dx = vec![0.0; m * n];
        Cpu.matmul(m, n, k, &dy, false, &w2, true, 0.0, &mut dx);
        let mut masked = vec![0.0; m * n];
        Cpu.multiply(&dx, &mask, &mut masked);
        let mut want_dx = vec![0.0; m * n];
        Cpu.activation_backward(act, n, &z, &y, &masked, &mut want_dx);
        let mut t = Table::new(1);
        let fwd = kernels::matmul(
            &mut t,
            &[Some(Matmul {
                m: Dim::Rows { max: m },
                n,
                k: Dim::Fixed(k),
                a: Operand::plain(xo, k),
                b: Operand::plain(wo, n),
                c_off: yo,
                epilogue: Epilogue::Forward {
                    bias: Some(bo),
                    act,
                    z_off: Some(zo),
                    dropout: Some(drop),
                },
            })],
        );
        let bwd = kernels::matmul(
            &mut t,
            &[Some(Matmul {
                m: Dim::Rows { max: m },
                n,
                k: Dim::Fixed(k),
                a: Operand::plain(dyo, k),
                b: Operand::transposed(w2o, k),
                c_off: dxo,
                epilogue: Epilogue::InputGrad {
                    dropout: Some(drop),
                    below: Some((act, zo)),
                },
            })],
        );
        let out = block_on(run_launches(
            &g,
            &ar.data,
            &[0.0],
            &[0],
            &t,
            &[fwd, bwd],
            &step(m, 1, true, 42),
        ))
        .unwrap();
        let name = act.name();
        assert_close(&out[zo..zo + m * n], &z, k as f32, &format!("{name} z"));
        assert_close(
            &out[yo..yo + m * n],
            &yd,
            k as f32,
            &format!("{name} dropout(act(z))"),
        );
        assert_close(
            &out[dxo..dxo + m * n],
            &want_dx,
            k as f32 * 4.0,
            &format!("{name} input gradient"),
        );
    }
}

#[test]
fn kernel_gradient_with_regularizer_and_bias_gradient() {
    let Some(g) = gpu() else { return };
    let mut rng = StdRng::seed_from_u64(3);
    for &(rows, in_w, out_w) in &[(1, 5, 3), (50, 64, 33), (13, 1, 300)] {
        let x = rand_vec(&mut rng, rows * in_w);
        let dz = rand_vec(&mut rng, rows * out_w);
        let w = rand_vec(&mut rng, in_w * out_w);
        let b = rand_vec(&mut rng, out_w);
        let reg = Regularizer::l1_l2(0.01, 0.03);
        let mut gw = vec![0.0; in_w * out_w];
        Cpu.matmul(in_w, out_w, rows, &x, true, &dz, false, 0.0, &mut gw);
        Cpu.regularize(&reg, &w, Some(&mut gw));
        let mut gb = vec![0.0; out_w];
        Cpu.column_sums(rows, out_w, &dz, &mut gb);
        Cpu.regularize(&reg, &b, Some(&mut gb));
        let mut ar = Arena::new();
        let (xo, dzo, wo, bo) = (ar.put(&x), ar.put(&dz), ar.put(&w), ar.put(&b));
        let (gwo, gbo) = (ar.zeros(in_w * out_w), ar.zeros(out_w));
        let mut t = Table::new(1);
        let l1 = kernels::matmul(
            &mut t,
            &[Some(Matmul {
                m: Dim::Fixed(in_w),
                n: out_w,
                k: Dim::Rows { max: rows },
                a: Operand::transposed(xo, in_w),
                b: Operand::plain(dzo, out_w),
                c_off: gwo,
                epilogue: Epilogue::KernelGrad {
                    w_off: wo,
                    l1: reg.l1,
                    l2: reg.l2,
                },
            })],
        );
        let l2 = kernels::bias_grad(&mut t, &[Some((out_w, dzo, gbo, bo, reg.l1, reg.l2))]);
        let out = block_on(run_launches(
            &g,
            &ar.data,
            &[0.0],
            &[0],
            &t,
            &[l1, l2],
            &step(rows, 1, true, 0),
        ))
        .unwrap();
        assert_close(
            &out[gwo..gwo + in_w * out_w],
            &gw,
            rows as f32,
            "kernel gradient",
        );
        assert_close(&out[gbo..gbo + out_w], &gb, rows as f32, "bias gradient");
    }
}

#[test]
fn gather_softmax_and_logs() {
    let Some(g) = gpu() else { return };
    let mut rng = StdRng::seed_from_u64(4);
    let (n, cols, rows) = (50, 7, 13);
    let data = rand_vec(&mut rng, n * cols);
    let idx: Vec<usize> = (0..n).rev().collect();
    let cursor = 9;
    let mut want = vec![0.0; rows * cols];
    Cpu.gather_rows(&data, cols, &idx[cursor..cursor + rows], &mut want);
    let z = rand_vec(&mut rng, rows * cols)
        .iter()
        .map(|v| v * 20.0)
        .collect::<Vec<_>>();
    let mut y = vec![0.0; rows * cols];
    Activation::Softmax.forward(&z, &mut y, cols);
    let dy = rand_vec(&mut rng, rows * cols);
    let mut dz = vec![0.0; rows * cols];
    Activation::Softmax.backward(&z, &y, &dy, &mut dz, cols);
    let mut ar = Arena::new();
    let dst = ar.zeros(rows * cols);
    let zo = ar.put(&z);
    let yo = ar.zeros(rows * cols);
    let go = ar.put(&dy);
    let yo2 = ar.put(&y);
    let log = ar.zeros((cursor + rows) * cols);
    // The same rows of targets (3 columns) and sample weights, gathered in the same dispatch.
    let targets = rand_vec(&mut rng, n * 3);
    let weights = rand_vec(&mut rng, n);
    let mut want_t = vec![0.0; rows * 3];
    Cpu.gather_rows(&targets, 3, &idx[cursor..cursor + rows], &mut want_t);
    let mut want_w = vec![0.0; rows];
    Cpu.gather_rows(&weights, 1, &idx[cursor..cursor + rows], &mut want_w);
    let data: Vec<f32> = [&data[..], &targets, &weights].concat();
    let (to, wo) = (ar.zeros(rows * 3), ar.zeros(rows));
    let mut t = Table::new(2);
    // two models: the second one has no part in the gather
    let l1 = kernels::gather_rows(
        &mut t,
        &[
            Some(kernels::Gather {
                cols,
                src_off: 0,
                dst_off: dst,
                idx_off: 0,
                dropout: None,
                also: [
                    Some(kernels::Segment {
                        cols: 3,
                        src_off: n * cols,
                        dst_off: to,
                    }),
                    Some(kernels::Segment {
                        cols: 1,
                        src_off: n * cols + n * 3,
                        dst_off: wo,
                    }),
                ],
            }),
            None,
        ],
        rows,
    );
    let l2 = kernels::softmax(&mut t, false, &[Some((cols, zo, yo)), None], rows);
    let l3 = kernels::softmax(&mut t, true, &[None, Some((cols, yo2, go))], rows);
    let l4 = kernels::log_rows(&mut t, &[Some((cols, dst, log)), None], rows);
    let idx32: Vec<u32> = idx.iter().map(|&i| i as u32).collect();
    let mut st = step(rows, 2, false, 0);
    st.cursor = cursor;
    let out = block_on(run_launches(
        &g,
        &ar.data,
        &data,
        &idx32,
        &t,
        &[l1, l2, l3, l4],
        &st,
    ))
    .unwrap();
    assert_close(&out[dst..dst + rows * cols], &want, 1.0, "gather");
    assert_close(&out[to..to + rows * 3], &want_t, 1.0, "gathered targets");
    assert_close(&out[wo..wo + rows], &want_w, 1.0, "gathered weights");
    assert_close(&out[yo..yo + rows * cols], &y, 1.0, "softmax");
    assert_close(&out[go..go + rows * cols], &dz, 1.0, "softmax backward");
    assert_close(
        &out[log + cursor * cols..log + (cursor + rows) * cols],
        &want,
        1.0,
        "log",
    );
    assert!(
        out[log..log + cursor * cols].iter().all(|v| *v == 0.0),
        "log rows before the cursor untouched"
    );
}

#[test]
fn dropout_masks_are_the_cpu_masks() {
    let Some(g) = gpu() else { return };
    let (rows, cols) = (40, 97);
    let data = vec![1.0; rows * cols];
    let idx: Vec<u32> = (0..rows as u32).collect();
    for (seed, counter) in [(0u64, 0u64), (7, 1), (u64::MAX - 3, 123_456_789_012)] {
        let mut ar = Arena::new();
        let dst = ar.zeros(rows * cols);
        let mut t = Table::new(1);
        let drop = Drop { rate: 0.4, seed };
        let l = kernels::gather_rows(
            &mut t,
            &[Some(kernels::Gather {
                cols,
                src_off: 0,
                dst_off: dst,
                idx_off: 0,
                dropout: Some(drop),
                also: [None, None],
            })],
            rows,
        );
        let out = block_on(run_launches(
            &g,
            &ar.data,
            &data,
            &idx,
            &t,
            &[l],
            &step(rows, 1, true, counter),
        ))
        .unwrap();
        for i in 0..rows * cols {
            let keep = hash_uniform(seed, counter, i as u64) >= 0.4;
            let want = if keep { 1.0 / 0.6 } else { 0.0 };
            assert_eq!(
                out[dst + i],
                want,
                "mask element {i} (seed {seed}, counter {counter})"
            );
        }
    }
}

#[test]
fn loss_gradients_match_for_every_loss() {
    let Some(g) = gpu() else { return };
    let mut rng = StdRng::seed_from_u64(5);
    let (rows, cols) = (23, 4);
    let cases: Vec<(Loss, Activation)> = vec![
        (Loss::new(LossKind::MeanSquaredError), Activation::Linear),
        (Loss::new(LossKind::MeanAbsoluteError), Activation::Tanh),
        (
            Loss::new(LossKind::MeanAbsolutePercentageError),
            Activation::Linear,
        ),
        (
            Loss::new(LossKind::MeanSquaredLogarithmicError),
            Activation::Softplus,
        ),
        (Loss::new(LossKind::Huber), Activation::Linear),
        (Loss::new(LossKind::LogCosh), Activation::Linear),
        (Loss::new(LossKind::BinaryCrossentropy), Activation::Sigmoid),
        (
            Loss::new(LossKind::BinaryCrossentropy)
                .from_logits(true)
                .label_smoothing(0.1),
            Activation::Linear,
        ),
        (
            Loss::new(LossKind::CategoricalCrossentropy),
            Activation::Softmax,
        ),
        (
            Loss::new(LossKind::CategoricalCrossentropy).label_smoothing(0.2),
            Activation::Softmax,
        ),
        (
            Loss::new(LossKind::CategoricalCrossentropy).from_logits(true),
            Activation::Linear,
        ),
        (
            Loss::new(LossKind::SparseCategoricalCrossentropy),
            Activation::Softmax,
        ),
        (
            Loss::new(LossKind::SparseCategoricalCrossentropy).from_logits(true),
            Activation::Linear,
        ),
        (Loss::new(LossKind::Hinge), Activation::Tanh),
        (Loss::new(LossKind::KlDivergence), Activation::Softmax),
    ];
    for (loss, act) in cases {
        let z: Vec<f32> = rand_vec(&mut rng, rows * cols)
            .iter()
            .map(|v| v * 3.0)
            .collect();
        let mut y = vec![0.0; rows * cols];
        act.forward(&z, &mut y, cols);
        let sparse = loss.kind == LossKind::SparseCategoricalCrossentropy;
        let tcols = if sparse { 1 } else { cols };
        let yt: Vec<f32> = (0..rows * tcols)
            .map(|i| match loss.kind {
                LossKind::SparseCategoricalCrossentropy => (i % cols) as f32,
                LossKind::CategoricalCrossentropy | LossKind::KlDivergence => {
                    ((i % cols) == (i / cols) % cols) as u8 as f32
                }
                LossKind::BinaryCrossentropy | LossKind::Hinge => rng.random_range(0..2) as f32,
                _ => rng.random_range(0.1f32..2.0),
            })
            .collect();
        let w: Vec<f32> = (0..rows).map(|i| 0.5 + (i % 3) as f32).collect();
        let mut dy = vec![0.0; rows * cols];
        loss.batch(&yt, &y, rows, Some(&w), Some(&mut dy)).unwrap();
        let mut want = vec![0.0; rows * cols];
        Cpu.activation_backward(act, cols, &z, &y, &dy, &mut want);
        let mut ar = Arena::new();
        let (yo, zo, to, wo) = (ar.put(&y), ar.put(&z), ar.put(&yt), ar.put(&w));
        let dzo = ar.zeros(rows * cols);
        // The predictions are logged at the step's cursor (row 2 of the epoch log).
        let logo = ar.zeros((2 + rows) * cols);
        let mut t = Table::new(1);
        let l = kernels::loss_grad(
            &mut t,
            &[Some(kernels::LossGrad {
                cols,
                yp_off: yo,
                z_off: zo,
                yt_off: to,
                target_cols: tcols,
                w_off: Some(wo),
                dz_off: dzo,
                loss: loss.clone(),
                act,
                log_off: Some(logo),
            })],
            rows,
        );
        let mut st = step(rows, 1, true, 0);
        st.cursor = 2;
        st.models[0].hinge_binary = loss.kind == LossKind::Hinge;
        let out = block_on(run_launches(&g, &ar.data, &[0.0], &[0], &t, &[l], &st)).unwrap();
        assert_close(
            &out[dzo..dzo + rows * cols],
            &want,
            1.0,
            &format!("{} (logits {}) gradient", loss.name(), loss.from_logits),
        );
        assert!(out[logo..logo + 2 * cols].iter().all(|v| *v == 0.0));
        assert_eq!(
            &out[logo + 2 * cols..logo + (2 + rows) * cols],
            &y[..],
            "logged predictions"
        );
    }
}

#[test]
fn penalties_norms_and_clipping() {
    let Some(g) = gpu() else { return };
    let mut rng = StdRng::seed_from_u64(6);
    let kw = rand_vec(&mut rng, 3000);
    let bw = rand_vec(&mut rng, 17);
    let reg_k = Regularizer::l1_l2(0.01, 0.02);
    let reg_b = Regularizer::l2(0.5);
    for global in [false, true] {
        let mut ar = Arena::new();
        let (ko, bo) = (ar.put(&kw), ar.put(&bw));
        let pen = ar.zeros(2);
        let norms = ar.zeros(2);
        let mut t = Table::new(1);
        let kt = kernels::Tensor {
            off: ko,
            len: kw.len(),
            l1: reg_k.l1,
            l2: reg_k.l2,
        };
        let bt = kernels::Tensor {
            off: bo,
            len: bw.len(),
            l1: reg_b.l1,
            l2: reg_b.l2,
        };
        let lr = kernels::LayerReduce {
            kernel: kt,
            bias: bt,
            out_off: pen,
            layer: 0,
            per_step: 2,
        };
        let l1 = kernels::reduce_layer(&mut t, false, &[Some(lr)]);
        let l2 = kernels::reduce_layer(
            &mut t,
            true,
            &[Some(kernels::LayerReduce {
                out_off: norms,
                ..lr
            })],
        );
        let l3 = kernels::clip_grads(
            &mut t,
            &[Some(kernels::Clip {
                kernel: kt,
                bias: bt,
                norms_off: norms,
                tensors: 2,
                global,
                layer: 0,
                c: 1.5,
            })],
        );
        let out = block_on(run_launches(
            &g,
            &ar.data,
            &[0.0],
            &[0],
            &t,
            &[l1, l2, l3],
            &step(1, 1, true, 0),
        ))
        .unwrap();
        assert_close(
            &out[pen..pen + 2],
            &[reg_k.penalty(&kw), reg_b.penalty(&bw)],
            3000.0,
            "penalty",
        );
        let sq = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>();
        assert_close(
            &out[norms..norms + 2],
            &[sq(&kw), sq(&bw)],
            3000.0,
            "squared norms",
        );
        let mut opt = Optimizer::new(OptimizerKind::Sgd);
        if global {
            opt.global_clipnorm = Some(1.5);
        } else {
            opt.clipnorm = Some(1.5);
        }
        let mut grads = vec![kw.clone(), bw.clone()];
        opt.clip(&mut grads);
        assert_close(
            &out[ko..ko + kw.len()],
            &grads[0],
            1.0,
            "clipped kernel gradient",
        );
        assert_close(
            &out[bo..bo + bw.len()],
            &grads[1],
            1.0,
            "clipped bias gradient",
        );
    }
}

#[test]
fn one_update_step_of_every_optimizer() {
    let Some(g) = gpu() else { return };
    let mut rng = StdRng::seed_from_u64(7);
    let n = 1000;
    let mut variants: Vec<Optimizer> = [
        OptimizerKind::Sgd,
        OptimizerKind::Adam,
        OptimizerKind::Adamw,
        OptimizerKind::Rmsprop,
        OptimizerKind::Adagrad,
        OptimizerKind::Adadelta,
        OptimizerKind::Adamax,
        OptimizerKind::Nadam,
    ]
    .into_iter()
    .map(Optimizer::new)
    .collect();
    let mut o = Optimizer::new(OptimizerKind::Sgd);
    o.momentum = 0.9;
    o.nesterov = true;
    variants.push(o);
    let mut o = Optimizer::new(OptimizerKind::Adam);
    o.amsgrad = true;
    o.clipvalue = Some(0.3);
    variants.push(o);
    let mut o = Optimizer::new(OptimizerKind::Rmsprop);
    o.centered = true;
    o.momentum = 0.4;
    o.weight_decay = Some(0.1);
    variants.push(o);
    for opt in variants {
        let w = rand_vec(&mut rng, n);
        let gr = rand_vec(&mut rng, n);
        // state after a few steps: positive second moments, signed first moments
        let slots: Vec<Vec<f32>> = (0..opt.kind.slots())
            .map(|s| {
                use OptimizerKind::*;
                let positive = matches!(
                    (opt.kind, s),
                    (Adam | Adamw, 1 | 2)
                        | (Rmsprop, 0)
                        | (Adagrad, _)
                        | (Adadelta, _)
                        | (Adamax | Nadam, 1)
                );
                (0..n)
                    .map(|_| {
                        if positive {
                            rng.random_range(0.01f32..0.2)
                        } else {
                            rng.random_range(-0.1f32..0.1)
                        }
                    })
                    .collect()
            })
            .collect();
        let info = opt.step_info(5, 0.03, 0.7);
        let mut want_w = w.clone();
        let mut want_s = slots.clone();
        let mut gclip = vec![gr.clone()];
        opt.clip(&mut gclip);
        opt.update(&info, &mut want_w, &gclip[0], &mut want_s);
        let mut ar = Arena::new();
        let (wo, go) = (ar.put(&w), ar.put(&gr));
        let mut so = [wo; 3];
        for (i, s) in slots.iter().enumerate() {
            so[i] = ar.put(s);
        }
        let mut t = Table::new(1);
        let upd = kernels::Update {
            count: n,
            params_off: wo,
            grads_off: go,
            slots: so,
            optimizer: opt.clone(),
        };
        let l = kernels::update(&mut t, kernels::optimizer_kernel(opt.kind), &[Some(upd)]);
        let mut st = step(1, 1, true, 5);
        st.models[0].info = info;
        let out = block_on(run_launches(&g, &ar.data, &[0.0], &[0], &t, &[l], &st)).unwrap();
        let name = format!(
            "{:?} nesterov={} amsgrad={} centered={}",
            opt.kind, opt.nesterov, opt.amsgrad, opt.centered
        );
        assert_close(&out[wo..wo + n], &want_w, 1.0, &format!("{name} weights"));
        for (i, s) in want_s.iter().enumerate() {
            assert_close(&out[so[i]..so[i] + n], s, 1.0, &format!("{name} slot {i}"));
        }
    }
}

/// The helper's own test: with no adapter (the Vulkan loader pointed at a driver list that does
/// not exist) a GPU test of this file fails when `TUNELAB_REQUIRE_GPU` is set, and skips
/// (passes, saying SKIPPED) when it is not. Linux only: elsewhere Metal or DX12 would answer.
#[cfg(target_os = "linux")]
#[test]
fn require_gpu_turns_a_missing_adapter_into_a_failure() {
    let run = |require: bool| {
        let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "--exact",
            "matmul_all_transposes_and_odd_shapes",
            "--nocapture",
        ])
        .env("VK_ICD_FILENAMES", "/nonexistent/tunelab-no-driver.json")
        .env("VK_DRIVER_FILES", "/nonexistent/tunelab-no-driver.json")
        .env_remove("VK_ADD_DRIVER_FILES");
        if require {
            cmd.env("TUNELAB_REQUIRE_GPU", "1");
        } else {
            cmd.env_remove("TUNELAB_REQUIRE_GPU");
        }
        let out = cmd.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let (ok, text) = run(true);
    assert!(!ok, "required GPU, no adapter: the test passed\n{text}");
    assert!(
        text.contains("TUNELAB_REQUIRE_GPU is set but there is no WebGPU adapter"),
        "{text}"
    );
    let (ok, text) = run(false);
    assert!(ok, "no adapter, not required: the test should skip\n{text}");
    assert!(text.contains("SKIPPED: no WebGPU adapter"), "{text}");
}

#[test]
fn the_gpu_helper_fails_only_when_required() {
    assert_eq!(common::adapter_or_skip::<u8, &str>(Ok(1), true), Some(1));
    assert_eq!(
        common::adapter_or_skip::<u8, &str>(Err("none"), false),
        None
    );
    let required =
        std::panic::catch_unwind(|| common::adapter_or_skip::<u8, &str>(Err("none"), true));
    assert!(required.is_err());
}
