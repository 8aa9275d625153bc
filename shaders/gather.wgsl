// gather.wgsl: the shuffled batch gather, and copies of a batch's outputs into an epoch log.
//
// gather_rows record: 0 cols, 1 src_off (in data), 2 dst_off (in arena), 3 idx_off (in index),
//   14 dropout rate (f32), 15-16 dropout seed, 31 enabled.
//   One invocation copies element (r, c) of the batch: dst[r, c] = data[src + index[idx_off +
//   cursor + r] * cols + c], times the input dropout mask while training.
// log_rows record: 0 cols, 1 src_off, 2 dst_off (both in arena), 31 enabled.
//   One invocation copies element (r, c): dst[(cursor + r) * cols + c] = src[r * cols + c].

@compute @workgroup_size(64, 1, 1)
fn gather_rows(@builtin(global_invocation_id) gid: vec3<u32>) {
    let model = gid.z;
    if (!enabled(model)) {
        return;
    }
    let cols = rec(model, 0u);
    let c = gid.x;
    let r = gid.y;
    if (c >= cols || r >= step_rows()) {
        return;
    }
    let row = index[rec(model, 3u) + step[S_CURSOR] + r];
    var v = data[rec(model, 1u) + row * cols + c];
    let rate = recf(model, 14u);
    if (rate > 0.0 && step[S_TRAINING] != 0u) {
        v = v * dropout_factor(rate, vec2<u32>(rec(model, 15u), rec(model, 16u)), model, r * cols + c);
    }
    arena[rec(model, 2u) + r * cols + c] = v;
}

@compute @workgroup_size(64, 1, 1)
fn log_rows(@builtin(global_invocation_id) gid: vec3<u32>) {
    let model = gid.z;
    if (!enabled(model)) {
        return;
    }
    let cols = rec(model, 0u);
    let c = gid.x;
    let r = gid.y;
    if (c >= cols || r >= step_rows()) {
        return;
    }
    arena[rec(model, 2u) + (step[S_CURSOR] + r) * cols + c] = arena[rec(model, 1u) + r * cols + c];
}
