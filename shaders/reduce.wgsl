// reduce.wgsl: reductions: bias gradients (column sums), regularization penalties and squared
// gradient norms (for clipnorm / global_clipnorm), and the clipping itself.
//
// bias_grad record: BiasGradRec in src/gpu/records.rs (BIAS_*): cols, dz_off, out_off, b_off,
//   l1, l2.
//   One invocation per column j: out[j] = sum over the step's rows of dz[r, j], plus the bias
//   regularizer's gradient.
// penalty / grad_sq_norm record: ReduceRec (REDUCE_*): per tensor t in {0: kernel, 1: bias}
//   (workgroup_id.x) off, len, l1, l2 (the bias's fields follow the kernel's layout); out_off (in
//   arena; the result goes to out_off + t, and for penalty + the step's log slot * per_step),
//   layer (slot), per_step (2 x layers). One workgroup of 256 invocations reduces one tensor:
//   penalty: l1 * sum |w| + l2 * sum w^2; grad_sq_norm: sum g^2.
// clip_grads record: ClipRec (CLIP_*): kernel off and len, bias off and len, norms_off,
//   tensors in the model, mode (CLIP_PER_TENSOR or CLIP_GLOBAL), layer slot, c. One invocation per element: g *= the clip scale of its tensor (or the model).

// A kernel field's word for tensor t (0 kernel, 1 bias: the bias fields follow the kernel's
// layout, one tensor's distance on).
fn reduce_word(kernel_field: u32, t: u32) -> u32 {
    return kernel_field + t * (REDUCE_BIAS_OFF - REDUCE_KERNEL_OFF);
}
fn clip_word(kernel_field: u32, t: u32) -> u32 {
    return kernel_field + t * (CLIP_BIAS_OFF - CLIP_KERNEL_OFF);
}

var<workgroup> partial: array<f32, 256>;
var<workgroup> job: vec4<u32>;

@compute @workgroup_size(64, 1, 1)
fn bias_grad(@builtin(global_invocation_id) gid: vec3<u32>) {
    let model = gid.z;
    let j = gid.x;
    if (!enabled(model)) {
        return;
    }
    let cols = rec(model, BIAS_COLS);
    if (j >= cols) {
        return;
    }
    let dz = rec(model, BIAS_DZ_OFF);
    var s = 0.0;
    let rows = step_rows();
    for (var r = 0u; r < rows; r = r + 1u) {
        s = s + arena[dz + r * cols + j];
    }
    let l1 = recf(model, BIAS_L1);
    let l2 = recf(model, BIAS_L2);
    if (l1 != 0.0 || l2 != 0.0) {
        let b = arena[rec(model, BIAS_B_OFF) + j];
        s = s + l1 * sign(b) + 2.0 * l2 * b;
    }
    arena[rec(model, BIAS_OUT_OFF) + j] = s;
}

fn reduce_tensor(wg: vec3<u32>, lid: u32, squares_only: bool) -> f32 {
    let model = wg.z;
    let t = wg.x;
    if (lid == 0u) {
        var s = vec4<u32>(0u, 0u, 0u, 0u);
        if (enabled(model)) {
            s = vec4<u32>(rec(model, reduce_word(REDUCE_KERNEL_OFF, t)), rec(model, reduce_word(REDUCE_KERNEL_LEN, t)), 1u, 0u);
        }
        job = s;
    }
    let jb = workgroupUniformLoad(&job);
    var s = 0.0;
    if (jb.z != 0u) {
        let l1 = recf(model, reduce_word(REDUCE_KERNEL_L1, t));
        let l2 = recf(model, reduce_word(REDUCE_KERNEL_L2, t));
        for (var i = lid; i < jb.y; i = i + 256u) {
            let v = arena[jb.x + i];
            if (squares_only) {
                s = s + v * v;
            } else {
                s = s + l1 * abs(v) + l2 * v * v;
            }
        }
    }
    partial[lid] = s;
    workgroupBarrier();
    for (var width = 128u; width > 0u; width = width / 2u) {
        if (lid < width) {
            partial[lid] = partial[lid] + partial[lid + width];
        }
        workgroupBarrier();
    }
    return partial[0];
}

@compute @workgroup_size(256, 1, 1)
fn penalty(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let total = reduce_tensor(wg, lid, false);
    let model = wg.z;
    if (lid == 0u && enabled(model)) {
        let slot = rec(model, REDUCE_LAYER) * 2u + wg.x;
        arena[rec(model, REDUCE_OUT_OFF) + step[S_LOG_STEP] * rec(model, REDUCE_PER_STEP) + slot] = total;
    }
}

@compute @workgroup_size(256, 1, 1)
fn grad_sq_norm(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let total = reduce_tensor(wg, lid, true);
    let model = wg.z;
    if (lid == 0u && enabled(model)) {
        arena[rec(model, REDUCE_OUT_OFF) + rec(model, REDUCE_LAYER) * 2u + wg.x] = total;
    }
}

@compute @workgroup_size(64, 1, 1)
fn clip_grads(@builtin(global_invocation_id) gid: vec3<u32>) {
    let model = gid.z;
    if (!enabled(model)) {
        return;
    }
    let t = gid.y;
    let len = rec(model, clip_word(CLIP_KERNEL_LEN, t));
    let i = gid.x;
    if (i >= len) {
        return;
    }
    let norms = rec(model, CLIP_NORMS_OFF);
    let c = recf(model, CLIP_C);
    var scale = 1.0;
    if (rec(model, CLIP_MODE) == CLIP_PER_TENSOR) {
        let n = sqrt(arena[norms + rec(model, CLIP_LAYER) * 2u + t]);
        if (n > 0.0) {
            scale = c / max(n, c);
        }
    } else {
        var total = 0.0;
        for (var s = 0u; s < rec(model, CLIP_TENSORS); s = s + 1u) {
            total = total + arena[norms + s];
        }
        let n = sqrt(total);
        if (n > 0.0) {
            scale = c * min(1.0 / n, 1.0 / c);
        }
    }
    let at = rec(model, clip_word(CLIP_KERNEL_OFF, t)) + i;
    arena[at] = arena[at] * scale;
}
