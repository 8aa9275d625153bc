// gather.wgsl: the shuffled batch gather, and copies of a batch's outputs into an epoch log.
//
// gather_rows record: 0 cols, 1 src_off (in data), 2 dst_off (in arena), 3 idx_off (in index),
//   4-6 and 7-9: two more segments of the same rows (cols, src_off, dst_off; cols 0: none), the
//   targets and the sample weights, so that one dispatch gathers a whole batch;
//   14 dropout rate (f32, the first segment only), 15-16 dropout seed, 31 enabled.
//   One invocation copies element (r, c) of the batch, c counting through the segments in turn:
//   dst[r, c] = data[src + index[idx_off + cursor + r] * cols + c], times the input dropout mask
//   while training.
// log_rows record: 0 cols, 1 src_off, 2 dst_off (both in arena), 31 enabled.
//   One invocation copies element (r, c): dst[(cursor + r) * cols + c] = src[r * cols + c].

@compute @workgroup_size(64, 1, 1)
fn gather_rows(@builtin(global_invocation_id) gid: vec3<u32>) {
    let model = gid.z;
    if (!enabled(model)) {
        return;
    }
    let c = gid.x;
    let r = gid.y;
    let cols = rec(model, 0u);
    let cols_b = rec(model, 4u);
    let cols_c = rec(model, 7u);
    if (c >= cols + cols_b + cols_c || r >= step_rows()) {
        return;
    }
    let row = index[rec(model, 3u) + step[S_CURSOR] + r];
    if (c < cols) {
        var v = data[rec(model, 1u) + row * cols + c];
        let rate = recf(model, 14u);
        if (rate > 0.0 && step[S_TRAINING] != 0u) {
            v = v * dropout_factor(rate, vec2<u32>(rec(model, 15u), rec(model, 16u)), model, r * cols + c);
        }
        arena[rec(model, 2u) + r * cols + c] = v;
    } else {
        // The other segments: words 4-6, then 7-9.
        var j = c - cols;
        var w = 4u;
        if (j >= cols_b) {
            j = j - cols_b;
            w = 7u;
        }
        let n = rec(model, w);
        arena[rec(model, w + 2u) + r * n + j] = data[rec(model, w + 1u) + row * n + j];
    }
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
