// optimizer.wgsl: one update kernel per optimizer, each fused with clipvalue and decoupled
// weight decay (clipnorm / global_clipnorm scale the gradients beforehand, in reduce.wgsl).
//
// Record: UpdateRec in src/gpu/records.rs (fields OPT_*, generated): count, params_off,
//   grads_off, slot0-2 (slot offsets), flags (OPT_NESTEROV, OPT_AMSGRAD, OPT_CENTERED), momentum,
//   beta_1, beta_2, epsilon, rho, weight_decay (0: none), clipvalue (0: none).
// The step supplies the per-model learning rate and bias-correction scalars (computed on the
// host as nn::Optimizer::step_info does). One invocation updates one parameter, the same
// arithmetic as nn::Optimizer::update.

struct Elem {
    ok: bool,
    i: u32,
    g: f32,
    lr: f32,
}

fn element(gid: vec3<u32>) -> Elem {
    var e: Elem;
    let model = gid.z;
    e.ok = false;
    if (!enabled(model)) {
        return e;
    }
    let i = gid.x + gid.y * 65535u * 64u;
    if (i >= rec(model, OPT_COUNT)) {
        return e;
    }
    e.ok = true;
    e.i = i;
    var g = arena[rec(model, OPT_GRADS_OFF) + i];
    let cv = recf(model, OPT_CLIPVALUE);
    if (cv > 0.0) {
        g = clamp(g, -cv, cv);
    }
    e.g = g;
    e.lr = model_f(model, M_LR);
    let wd = recf(model, OPT_WEIGHT_DECAY);
    if (wd != 0.0) {
        let p = rec(model, OPT_PARAMS_OFF) + i;
        arena[p] = arena[p] - arena[p] * (wd * e.lr);
    }
    return e;
}

fn slot(model: u32, s: u32, i: u32) -> u32 {
    return rec(model, OPT_SLOT0 + s) + i;
}

@compute @workgroup_size(64, 1, 1)
fn sgd(@builtin(global_invocation_id) gid: vec3<u32>) {
    let e = element(gid);
    if (!e.ok) {
        return;
    }
    let model = gid.z;
    let p = rec(model, OPT_PARAMS_OFF) + e.i;
    let mu = recf(model, OPT_MOMENTUM);
    if (mu == 0.0) {
        arena[p] = arena[p] - e.g * e.lr;
        return;
    }
    let m = slot(model, 0u, e.i);
    let mv = arena[m] * mu - e.g * e.lr;
    arena[m] = mv;
    if ((rec(model, OPT_FLAGS) & OPT_NESTEROV) != 0u) {
        arena[p] = arena[p] + (mv * mu - e.g * e.lr);
    } else {
        arena[p] = arena[p] + mv;
    }
}

@compute @workgroup_size(64, 1, 1)
fn adam(@builtin(global_invocation_id) gid: vec3<u32>) {
    let e = element(gid);
    if (!e.ok) {
        return;
    }
    let model = gid.z;
    let p = rec(model, OPT_PARAMS_OFF) + e.i;
    let b1 = recf(model, OPT_BETA_1);
    let b2 = recf(model, OPT_BETA_2);
    let eps = recf(model, OPT_EPSILON);
    let alpha = e.lr * sqrt(1.0 - model_f(model, M_B2P)) / (1.0 - model_f(model, M_B1P));
    let m = slot(model, 0u, e.i);
    let v = slot(model, 1u, e.i);
    let mi = arena[m] + (e.g - arena[m]) * (1.0 - b1);
    let vi = arena[v] + (e.g * e.g - arena[v]) * (1.0 - b2);
    arena[m] = mi;
    arena[v] = vi;
    var den = vi;
    if ((rec(model, OPT_FLAGS) & OPT_AMSGRAD) != 0u) {
        let h = slot(model, 2u, e.i);
        den = max(arena[h], vi);
        arena[h] = den;
    }
    arena[p] = arena[p] - (mi * alpha) / (sqrt(den) + eps);
}

@compute @workgroup_size(64, 1, 1)
fn rmsprop(@builtin(global_invocation_id) gid: vec3<u32>) {
    let e = element(gid);
    if (!e.ok) {
        return;
    }
    let model = gid.z;
    let p = rec(model, OPT_PARAMS_OFF) + e.i;
    let rho = recf(model, OPT_RHO);
    let eps = recf(model, OPT_EPSILON);
    let mu = recf(model, OPT_MOMENTUM);
    let vel = slot(model, 0u, e.i);
    let vv = rho * arena[vel] + (1.0 - rho) * e.g * e.g;
    arena[vel] = vv;
    var den = vv + eps;
    if ((rec(model, OPT_FLAGS) & OPT_CENTERED) != 0u) {
        let avg = slot(model, 2u, e.i);
        let a = rho * arena[avg] + (1.0 - rho) * e.g;
        arena[avg] = a;
        den = vv - a * a + eps;
    }
    let inc = e.lr * e.g / sqrt(den);
    if (mu > 0.0) {
        let mom = slot(model, 1u, e.i);
        let mv = mu * arena[mom] + inc;
        arena[mom] = mv;
        arena[p] = arena[p] - mv;
    } else {
        arena[p] = arena[p] - inc;
    }
}

@compute @workgroup_size(64, 1, 1)
fn adagrad(@builtin(global_invocation_id) gid: vec3<u32>) {
    let e = element(gid);
    if (!e.ok) {
        return;
    }
    let model = gid.z;
    let p = rec(model, OPT_PARAMS_OFF) + e.i;
    let acc = slot(model, 0u, e.i);
    let a = arena[acc] + e.g * e.g;
    arena[acc] = a;
    arena[p] = arena[p] - e.lr * e.g / sqrt(a + recf(model, OPT_EPSILON));
}

@compute @workgroup_size(64, 1, 1)
fn adadelta(@builtin(global_invocation_id) gid: vec3<u32>) {
    let e = element(gid);
    if (!e.ok) {
        return;
    }
    let model = gid.z;
    let p = rec(model, OPT_PARAMS_OFF) + e.i;
    let rho = recf(model, OPT_RHO);
    let eps = recf(model, OPT_EPSILON);
    let ag = slot(model, 0u, e.i);
    let ad = slot(model, 1u, e.i);
    let a = rho * arena[ag] + (1.0 - rho) * e.g * e.g;
    arena[ag] = a;
    let delta = -sqrt(arena[ad] + eps) * e.g / sqrt(a + eps);
    arena[ad] = rho * arena[ad] + (1.0 - rho) * delta * delta;
    arena[p] = arena[p] + e.lr * delta;
}

@compute @workgroup_size(64, 1, 1)
fn adamax(@builtin(global_invocation_id) gid: vec3<u32>) {
    let e = element(gid);
    if (!e.ok) {
        return;
    }
    let model = gid.z;
    let p = rec(model, OPT_PARAMS_OFF) + e.i;
    let b1 = recf(model, OPT_BETA_1);
    let b2 = recf(model, OPT_BETA_2);
    let m = slot(model, 0u, e.i);
    let u = slot(model, 1u, e.i);
    let mi = arena[m] + (e.g - arena[m]) * (1.0 - b1);
    let ui = max(b2 * arena[u], abs(e.g));
    arena[m] = mi;
    arena[u] = ui;
    arena[p] = arena[p] - (e.lr * mi) / ((1.0 - model_f(model, M_B1P)) * (ui + recf(model, OPT_EPSILON)));
}

@compute @workgroup_size(64, 1, 1)
fn nadam(@builtin(global_invocation_id) gid: vec3<u32>) {
    let e = element(gid);
    if (!e.ok) {
        return;
    }
    let model = gid.z;
    let p = rec(model, OPT_PARAMS_OFF) + e.i;
    let b1 = recf(model, OPT_BETA_1);
    let b2 = recf(model, OPT_BETA_2);
    let m = slot(model, 0u, e.i);
    let v = slot(model, 1u, e.i);
    let mi = arena[m] + (e.g - arena[m]) * (1.0 - b1);
    let vi = arena[v] + (e.g * e.g - arena[v]) * (1.0 - b2);
    arena[m] = mi;
    arena[v] = vi;
    let ut = model_f(model, M_UT);
    let ut1 = model_f(model, M_UT1);
    let up = model_f(model, M_UPROD);
    let m_hat = ut1 * mi / (1.0 - up * ut1) + (1.0 - ut) * e.g / (1.0 - up);
    let v_hat = vi / (1.0 - model_f(model, M_B2P));
    arena[p] = arena[p] - (m_hat * e.lr) / (sqrt(v_hat) + recf(model, OPT_EPSILON));
}
