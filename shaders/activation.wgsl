// activation.wgsl: softmax over rows and its backward pass (the elementwise activations are
// fused into matmul.wgsl's epilogues).
//
// softmax_rows record: SoftmaxRec in src/gpu/records.rs (SOFTMAX_*): cols, z_off, y_off. One invocation per row:
//   y = exp(z - max z) / sum exp(z - max z).
// softmax_backward record: SoftmaxBackRec (SOFTMAX_BACK_*): cols, y_off, g_off. One invocation per row,
//   in place: g = y * (g - sum(g * y)).

@compute @workgroup_size(64, 1, 1)
fn softmax_rows(@builtin(global_invocation_id) gid: vec3<u32>) {
    let model = gid.z;
    let r = gid.x;
    if (!enabled(model) || r >= step_rows()) {
        return;
    }
    let cols = rec(model, SOFTMAX_COLS);
    let z = rec(model, SOFTMAX_Z_OFF) + r * cols;
    let y = rec(model, SOFTMAX_Y_OFF) + r * cols;
    var m = -3.4e38;
    for (var j = 0u; j < cols; j = j + 1u) {
        m = max(m, arena[z + j]);
    }
    var s = 0.0;
    for (var j = 0u; j < cols; j = j + 1u) {
        let e = exp(arena[z + j] - m);
        arena[y + j] = e;
        s = s + e;
    }
    for (var j = 0u; j < cols; j = j + 1u) {
        arena[y + j] = arena[y + j] / s;
    }
}

@compute @workgroup_size(64, 1, 1)
fn softmax_backward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let model = gid.z;
    let r = gid.x;
    if (!enabled(model) || r >= step_rows()) {
        return;
    }
    let cols = rec(model, SOFTMAX_BACK_COLS);
    let y = rec(model, SOFTMAX_BACK_Y_OFF) + r * cols;
    let g = rec(model, SOFTMAX_BACK_G_OFF) + r * cols;
    var dot = 0.0;
    for (var j = 0u; j < cols; j = j + 1u) {
        dot = dot + arena[g + j] * arena[y + j];
    }
    for (var j = 0u; j < cols; j = j + 1u) {
        arena[g + j] = arena[y + j] * (arena[g + j] - dot);
    }
}
