// loss.wgsl: the loss gradient fused with the output activation's backward pass.
//
// Record: LossRec in src/gpu/records.rs (fields LOSS_*, generated): cols (output width), yp_off
//   (predictions), z_off (output pre-activations), yt_off (targets), target_cols, w_off (sample
//   weights or NONE), dz_off (result), kind (an L_* code), from_logits, label_smoothing, delta,
//   act (the output activation, an A_* code), log_off (NONE: none).
// One invocation per row: g = d(sum_over_batch_size loss)/d y_pred, with Keras's clipping
// (the same formulas as nn::losses), scaled by the sample weight / rows, then
// dz = g * act'(z) (softmax: y * (g - sum(g * y))). With a log, the row's predictions are also
// copied to log_off + (cursor + r) * cols (what log_rows does, without a dispatch of its own).

// The L_* loss codes are generated from src/gpu/records.rs.

fn elementwise_grad(kind: u32, model: u32, t_in: f32, p: f32, c: f32) -> f32 {
    switch kind {
        case L_MSE: { return 2.0 * (p - t_in) / c; }
        case L_MAE: { return sign(p - t_in) / c; }
        case L_MAPE: { return 100.0 * sign(p - t_in) / max(abs(t_in), EPS) / c; }
        case L_MSLE: {
            let pm = max(p, EPS);
            let d = log(pm + 1.0) - log(max(t_in, EPS) + 1.0);
            let dp = select(0.0, 1.0 / (pm + 1.0), p > EPS);
            return 2.0 * d * dp / c;
        }
        case L_HUBER: {
            let delta = recf(model, LOSS_DELTA);
            let e = p - t_in;
            if (abs(e) <= delta) {
                return e / c;
            }
            return delta * sign(e) / c;
        }
        case L_LOGCOSH: { return safe_tanh(p - t_in) / c; }
        case L_BCE: {
            let ls = recf(model, LOSS_LABEL_SMOOTHING);
            let t = t_in * (1.0 - ls) + 0.5 * ls;
            if (rec(model, LOSS_FROM_LOGITS) != 0u) {
                return (sigmoid(p) - t) / c;
            }
            if (p > EPS && p < 1.0 - EPS) {
                return (-t / p + (1.0 - t) / (1.0 - p)) / c;
            }
            return 0.0;
        }
        case L_HINGE: {
            var t = t_in;
            if (model_word(model, M_HINGE_BINARY) != 0u) {
                t = 2.0 * t_in - 1.0;
            }
            if (1.0 - t * p > 0.0) {
                return -t / c;
            }
            return 0.0;
        }
        default: {
            // kl_divergence: a sum over the row, not a mean
            let tc = clamp(t_in, EPS, 1.0);
            if (p >= EPS && p <= 1.0) {
                return -tc / clamp(p, EPS, 1.0);
            }
            return 0.0;
        }
    }
}

@compute @workgroup_size(64, 1, 1)
fn loss_grad(@builtin(global_invocation_id) gid: vec3<u32>) {
    let model = gid.z;
    let r = gid.x;
    let rows = step_rows();
    if (!enabled(model) || r >= rows) {
        return;
    }
    let cols = rec(model, LOSS_COLS);
    let yp = rec(model, LOSS_YP_OFF) + r * cols;
    let zo = rec(model, LOSS_Z_OFF) + r * cols;
    let log = rec(model, LOSS_LOG_OFF);
    if (log != NONE) {
        let at = log + (step[S_CURSOR] + r) * cols;
        for (var j = 0u; j < cols; j = j + 1u) {
            arena[at + j] = arena[yp + j];
        }
    }
    let tcols = rec(model, LOSS_TARGET_COLS);
    let yt = rec(model, LOSS_YT_OFF) + r * tcols;
    let g = rec(model, LOSS_DZ_OFF) + r * cols;
    let kind = rec(model, LOSS_KIND);
    let c = f32(cols);
    if (kind == L_CCE || kind == L_SCCE) {
        let ls = recf(model, LOSS_LABEL_SMOOTHING);
        let k = f32(cols);
        let id = u32(max(arena[yt], 0.0));
        // target probability of column j: one-hot of the class id, or the smoothed row
        if (rec(model, LOSS_FROM_LOGITS) != 0u) {
            var m = -3.4e38;
            var st = 0.0;
            for (var j = 0u; j < cols; j = j + 1u) {
                m = max(m, arena[yp + j]);
            }
            var se = 0.0;
            for (var j = 0u; j < cols; j = j + 1u) {
                se = se + exp(arena[yp + j] - m);
                if (kind == L_SCCE) {
                    st = st + select(0.0, 1.0, j == id);
                } else {
                    st = st + arena[yt + j] * (1.0 - ls) + ls / k;
                }
            }
            for (var j = 0u; j < cols; j = j + 1u) {
                var t = 0.0;
                if (kind == L_SCCE) {
                    t = select(0.0, 1.0, j == id);
                } else {
                    t = arena[yt + j] * (1.0 - ls) + ls / k;
                }
                arena[g + j] = exp(arena[yp + j] - m) / se * st - t;
            }
        } else {
            var s = 0.0;
            for (var j = 0u; j < cols; j = j + 1u) {
                s = s + arena[yp + j];
            }
            var gp = 0.0;
            for (var j = 0u; j < cols; j = j + 1u) {
                var t = 0.0;
                if (kind == L_SCCE) {
                    t = select(0.0, 1.0, j == id);
                } else {
                    t = arena[yt + j] * (1.0 - ls) + ls / k;
                }
                let p = arena[yp + j];
                let q = p / s;
                var gj = 0.0;
                if (q > EPS && q < 1.0 - EPS) {
                    gj = -t / q;
                }
                arena[g + j] = gj;
                gp = gp + gj * p;
            }
            for (var j = 0u; j < cols; j = j + 1u) {
                arena[g + j] = arena[g + j] / s - gp / (s * s);
            }
        }
    } else {
        for (var j = 0u; j < cols; j = j + 1u) {
            arena[g + j] = elementwise_grad(kind, model, arena[yt + j], arena[yp + j], c);
        }
    }
    var scale = 1.0 / f32(rows);
    let w_off = rec(model, LOSS_W_OFF);
    if (w_off != NONE) {
        scale = scale * arena[w_off + r];
    }
    let act = rec(model, LOSS_ACT);
    if (act == A_SOFTMAX) {
        var dot = 0.0;
        for (var j = 0u; j < cols; j = j + 1u) {
            dot = dot + arena[g + j] * arena[yp + j];
        }
        for (var j = 0u; j < cols; j = j + 1u) {
            arena[g + j] = arena[yp + j] * (arena[g + j] - dot) * scale;
        }
    } else {
        for (var j = 0u; j < cols; j = j + 1u) {
            arena[g + j] = arena[g + j] * scale * act_derivative(act, arena[zo + j]);
        }
    }
}
