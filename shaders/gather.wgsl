// gather.wgsl: the shuffled batch gather, and copies of a batch's outputs into an epoch log.
//
// gather_rows record: GatherRec in src/gpu/records.rs (fields GATHER_*, generated): cols, src_off
//   (in data), dst_off (in arena), idx_off (in index), two more segments of the same rows (b_*,
//   c_*: cols, src_off, dst_off; cols 0: none), the targets and the sample weights, so that one
//   dispatch gathers a whole batch; the dropout rate and seed (the first segment only).
//   One invocation copies element (r, c) of the batch, c counting through the segments in turn:
//   dst[r, c] = data[src + index[idx_off + cursor + r] * cols + c], times the input dropout mask
//   while training.
// log_rows record: LogRowsRec (LOG_*): cols, src_off, dst_off (both in arena).
//   One invocation copies element (r, c): dst[(cursor + r) * cols + c] = src[r * cols + c].

@compute @workgroup_size(64, 1, 1)
fn gather_rows(@builtin(global_invocation_id) gid: vec3<u32>) {
    let model = gid.z;
    if (!enabled(model)) {
        return;
    }
    let c = gid.x;
    let r = gid.y;
    let cols = rec(model, GATHER_COLS);
    let cols_b = rec(model, GATHER_B_COLS);
    let cols_c = rec(model, GATHER_C_COLS);
    if (c >= cols + cols_b + cols_c || r >= step_rows()) {
        return;
    }
    let row = index[rec(model, GATHER_IDX_OFF) + step[S_CURSOR] + r];
    if (c < cols) {
        var v = data[rec(model, GATHER_SRC_OFF) + row * cols + c];
        let rate = recf(model, GATHER_DROP_RATE);
        if (rate > 0.0 && step[S_TRAINING] != 0u) {
            v = v * dropout_factor(rate, vec2<u32>(rec(model, GATHER_DROP_SEED_LO), rec(model, GATHER_DROP_SEED_HI)), model, r * cols + c);
        }
        arena[rec(model, GATHER_DST_OFF) + r * cols + c] = v;
    } else {
        // The other segments (b, then c: the same layout from their cols word on).
        var j = c - cols;
        var w = GATHER_B_COLS;
        if (j >= cols_b) {
            j = j - cols_b;
            w = GATHER_C_COLS;
        }
        let n = rec(model, w);
        arena[rec(model, w + (GATHER_B_DST_OFF - GATHER_B_COLS)) + r * n + j] = data[rec(model, w + (GATHER_B_SRC_OFF - GATHER_B_COLS)) + row * n + j];
    }
}

@compute @workgroup_size(64, 1, 1)
fn log_rows(@builtin(global_invocation_id) gid: vec3<u32>) {
    let model = gid.z;
    if (!enabled(model)) {
        return;
    }
    let cols = rec(model, LOG_COLS);
    let c = gid.x;
    let r = gid.y;
    if (c >= cols || r >= step_rows()) {
        return;
    }
    arena[rec(model, LOG_DST_OFF) + (step[S_CURSOR] + r) * cols + c] = arena[rec(model, LOG_SRC_OFF) + r * cols + c];
}
