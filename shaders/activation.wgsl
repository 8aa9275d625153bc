// activation.wgsl: softmax over rows and its backward pass (the elementwise activations are
// fused into matmul.wgsl's epilogues).
//
// softmax_rows record: 0 cols, 1 z_off, 2 y_off, 31 enabled. One invocation per row:
//   y = exp(z - max z) / sum exp(z - max z).
// softmax_backward record: 0 cols, 1 y_off, 2 g_off, 31 enabled. One invocation per row,
//   in place: g = y * (g - sum(g * y)).

@compute @workgroup_size(64, 1, 1)
fn softmax_rows(@builtin(global_invocation_id) gid: vec3<u32>) {
    let model = gid.z;
    let r = gid.x;
    if (!enabled(model) || r >= step_rows()) {
        return;
    }
    let cols = rec(model, 0u);
    let z = rec(model, 1u) + r * cols;
    let y = rec(model, 2u) + r * cols;
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
    let cols = rec(model, 0u);
    let y = rec(model, 1u) + r * cols;
    let g = rec(model, 2u) + r * cols;
    var dot = 0.0;
    for (var j = 0u; j < cols; j = j + 1u) {
        dot = dot + arena[g + j] * arena[y + j];
    }
    for (var j = 0u; j < cols; j = j + 1u) {
        arena[g + j] = arena[y + j] * (arena[g + j] - dot);
    }
}
