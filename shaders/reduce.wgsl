// reduce.wgsl: reductions: bias gradients (column sums), regularization penalties and squared
// gradient norms (for clipnorm / global_clipnorm), and the clipping itself.
//
// bias_grad record: 0 cols, 1 dz_off, 2 out_off, 3 b_off, 17 l1, 18 l2, 31 enabled.
//   One invocation per column j: out[j] = sum over the step's rows of dz[r, j], plus the bias
//   regularizer's gradient.
// penalty / grad_sq_norm record: per tensor t in {0: kernel, 1: bias} (workgroup_id.x):
//   words 4t + 0 off, 4t + 1 len, 4t + 2 l1, 4t + 3 l2; 8 out_off (in arena; the result goes to
//   out_off + t, and for penalty + the step's log slot * 2 * slots_per_step), 9 layer slot, 10
//   slots per step (2 x layers), 31 enabled. One workgroup of 256 invocations reduces one tensor:
//   penalty: l1 * sum |w| + l2 * sum w^2; grad_sq_norm: sum g^2.
// clip_grads record: 0 kernel off, 1 kernel len, 2 bias off, 3 bias len, 4 norms_off,
//   5 tensors in the model, 6 mode (1 clipnorm, 2 global_clipnorm), 7 layer slot, 8 c (f32),
//   31 enabled. One invocation per element: g *= the clip scale of its tensor (or the model).

var<workgroup> partial: array<f32, 256>;
var<workgroup> job: vec4<u32>;

@compute @workgroup_size(64, 1, 1)
fn bias_grad(@builtin(global_invocation_id) gid: vec3<u32>) {
    let model = gid.z;
    let j = gid.x;
    if (!enabled(model)) {
        return;
    }
    let cols = rec(model, 0u);
    if (j >= cols) {
        return;
    }
    let dz = rec(model, 1u);
    var s = 0.0;
    let rows = step_rows();
    for (var r = 0u; r < rows; r = r + 1u) {
        s = s + arena[dz + r * cols + j];
    }
    let l1 = recf(model, 17u);
    let l2 = recf(model, 18u);
    if (l1 != 0.0 || l2 != 0.0) {
        let b = arena[rec(model, 3u) + j];
        s = s + l1 * sign(b) + 2.0 * l2 * b;
    }
    arena[rec(model, 2u) + j] = s;
}

fn reduce_tensor(wg: vec3<u32>, lid: u32, squares_only: bool) -> f32 {
    let model = wg.z;
    let t = wg.x;
    if (lid == 0u) {
        var s = vec4<u32>(0u, 0u, 0u, 0u);
        if (enabled(model)) {
            s = vec4<u32>(rec(model, 4u * t), rec(model, 4u * t + 1u), 1u, 0u);
        }
        job = s;
    }
    let jb = workgroupUniformLoad(&job);
    var s = 0.0;
    if (jb.z != 0u) {
        let l1 = recf(model, 4u * t + 2u);
        let l2 = recf(model, 4u * t + 3u);
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
        let slot = rec(model, 9u) * 2u + wg.x;
        arena[rec(model, 8u) + step[S_LOG_STEP] * rec(model, 10u) + slot] = total;
    }
}

@compute @workgroup_size(256, 1, 1)
fn grad_sq_norm(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let total = reduce_tensor(wg, lid, true);
    let model = wg.z;
    if (lid == 0u && enabled(model)) {
        arena[rec(model, 8u) + rec(model, 9u) * 2u + wg.x] = total;
    }
}

@compute @workgroup_size(64, 1, 1)
fn clip_grads(@builtin(global_invocation_id) gid: vec3<u32>) {
    let model = gid.z;
    if (!enabled(model)) {
        return;
    }
    let t = gid.y;
    let len = rec(model, 2u * t + 1u);
    let i = gid.x;
    if (i >= len) {
        return;
    }
    let norms = rec(model, 4u);
    let c = recf(model, 8u);
    var scale = 1.0;
    if (rec(model, 6u) == 1u) {
        let n = sqrt(arena[norms + rec(model, 7u) * 2u + t]);
        if (n > 0.0) {
            scale = c / max(n, c);
        }
    } else {
        var total = 0.0;
        for (var s = 0u; s < rec(model, 5u); s = s + 1u) {
            total = total + arena[norms + s];
        }
        let n = sqrt(total);
        if (n > 0.0) {
            scale = c * min(1.0 / n, 1.0 / c);
        }
    }
    let at = rec(model, 2u * t) + i;
    arena[at] = arena[at] * scale;
}
