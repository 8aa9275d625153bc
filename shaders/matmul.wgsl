// matmul.wgsl: C = op(A) * op(B) with an epilogue, register-tiled.
//
// Record: MatmulRec in src/gpu/records.rs (fields MM_*, generated): m, n, k (m or k may be NONE =
// the step's rows); element (i, p) of op(A) is arena[a_off + i * a_rs + p * a_cs] (transposes
// are strides), likewise B; c_off; mode; bias_off; act; z_off; dropout rate and seed; l1, l2 and
// w_off of the kernel gradient.
// Modes: MM_FORWARD (z = acc + bias written to z_off, y = dropout(act(z)) written to c_off);
//        MM_KERNEL_GRAD (acc + the regularizer's gradient of the weights at w_off);
//        MM_INPUT_GRAD of the layer below (acc * dropout mask * act'(z_below)).
// One workgroup of 8x8 invocations computes a 32x32 tile of C, each invocation a 4x4 block
// held in registers; A and B tiles of depth 16 are staged in workgroup memory as vec4 rows.

const TILE: u32 = 32u;
const DEPTH: u32 = 16u;

var<workgroup> a_tile: array<vec4<f32>, 128>; // [p][i / 4], DEPTH x TILE
var<workgroup> b_tile: array<vec4<f32>, 128>; // [p][j / 4]
var<workgroup> shape: vec4<u32>;

fn epilogue(model: u32, i: u32, j: u32, n: u32, acc: f32) {
    let mode = rec(model, MM_MODE);
    let c = rec(model, MM_C_OFF) + i * n + j;
    if (mode == MM_FORWARD) {
        var z = acc;
        let bias = rec(model, MM_BIAS_OFF);
        if (bias != NONE) {
            z = z + arena[bias + j];
        }
        let z_off = rec(model, MM_Z_OFF);
        if (z_off != NONE) {
            arena[z_off + i * n + j] = z;
        }
        var y = act_forward(rec(model, MM_ACT), z);
        let rate = recf(model, MM_DROP_RATE);
        if (rate > 0.0 && step[S_TRAINING] != 0u) {
            y = y * dropout_factor(rate, vec2<u32>(rec(model, MM_DROP_SEED_LO), rec(model, MM_DROP_SEED_HI)), model, i * n + j);
        }
        arena[c] = y;
    } else if (mode == MM_KERNEL_GRAD) {
        var g = acc;
        let l1 = recf(model, MM_L1);
        let l2 = recf(model, MM_L2);
        if (l1 != 0.0 || l2 != 0.0) {
            let w = arena[rec(model, MM_W_OFF) + i * n + j];
            g = g + l1 * sign(w) + 2.0 * l2 * w;
        }
        arena[c] = g;
    } else {
        var g = acc;
        let rate = recf(model, MM_DROP_RATE);
        if (rate > 0.0 && step[S_TRAINING] != 0u) {
            g = g * dropout_factor(rate, vec2<u32>(rec(model, MM_DROP_SEED_LO), rec(model, MM_DROP_SEED_HI)), model, i * n + j);
        }
        let z_off = rec(model, MM_Z_OFF);
        if (z_off != NONE) {
            g = g * act_derivative(rec(model, MM_ACT), arena[z_off + i * n + j]);
        }
        arena[c] = g;
    }
}

// The 4x4 block at (i0, j0) held in acc0..acc3 (one row each), through the epilogue, inside
// the m x n result.
fn store_block(model: u32, i0: u32, j0: u32, m: u32, n: u32, acc0: vec4<f32>, acc1: vec4<f32>, acc2: vec4<f32>, acc3: vec4<f32>) {
    for (var r = 0u; r < 4u; r = r + 1u) {
        let i = i0 + r;
        if (i >= m) {
            break;
        }
        var row: vec4<f32>;
        switch r {
            case 0u: { row = acc0; }
            case 1u: { row = acc1; }
            case 2u: { row = acc2; }
            default: { row = acc3; }
        }
        for (var c = 0u; c < 4u; c = c + 1u) {
            let j = j0 + c;
            if (j < n) {
                epilogue(model, i, j, n, row[c]);
            }
        }
    }
}

@compute @workgroup_size(8, 8, 1)
fn matmul(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let model = wg.z;
    if (lid.x == 0u && lid.y == 0u) {
        var s = vec4<u32>(0u, 0u, 0u, 0u);
        if (enabled(model)) {
            s = vec4<u32>(dim(rec(model, MM_M)), rec(model, MM_N), dim(rec(model, MM_K)), 1u);
        }
        shape = s;
    }
    let sh = workgroupUniformLoad(&shape);
    let m = sh.x;
    let n = sh.y;
    let k = sh.z;
    let row0 = wg.y * TILE;
    let col0 = wg.x * TILE;
    if (sh.w == 0u || row0 >= m || col0 >= n) {
        return;
    }
    let a_off = rec(model, MM_A_OFF);
    let a_rs = rec(model, MM_A_RS);
    let a_cs = rec(model, MM_A_CS);
    let b_off = rec(model, MM_B_OFF);
    let b_rs = rec(model, MM_B_RS);
    let b_cs = rec(model, MM_B_CS);
    let tid = lid.y * 8u + lid.x;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var p0 = 0u; p0 < k; p0 = p0 + DEPTH) {
        // Stage A (TILE rows x DEPTH) and B (DEPTH x TILE columns): 512 values each, 8 per invocation.
        for (var e = 0u; e < 8u; e = e + 1u) {
            let flat = tid + e * 64u;
            let i = flat % TILE;
            let p = flat / TILE;
            let gi = row0 + i;
            let gp = p0 + p;
            var av = 0.0;
            if (gi < m && gp < k) {
                av = arena[a_off + gi * a_rs + gp * a_cs];
            }
            a_tile[p * 8u + i / 4u][i % 4u] = av;
            let gj = col0 + i;
            var bv = 0.0;
            if (gj < n && gp < k) {
                bv = arena[b_off + gp * b_rs + gj * b_cs];
            }
            b_tile[p * 8u + i / 4u][i % 4u] = bv;
        }
        workgroupBarrier();
        for (var p = 0u; p < DEPTH; p = p + 1u) {
            let a = a_tile[p * 8u + lid.y];
            let b = b_tile[p * 8u + lid.x];
            acc0 = acc0 + a.x * b;
            acc1 = acc1 + a.y * b;
            acc2 = acc2 + a.z * b;
            acc3 = acc3 + a.w * b;
        }
        workgroupBarrier();
    }
    let i0 = row0 + lid.y * 4u;
    let j0 = col0 + lid.x * 4u;
    store_block(model, i0, j0, m, n, acc0, acc1, acc2, acc3);
}

// The same product for adapters that run shaders on the CPU (SwiftShader, llvmpipe): no
// workgroup memory and no barriers, which such drivers emulate at a high price (a barrier
// switches between the workgroup's invocations); the CPU's caches do the staging instead.
// Same grid and record as `matmul`; each invocation computes its 4x4 block straight from the
// arena.
@compute @workgroup_size(8, 8, 1)
fn matmul_direct(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let model = wg.z;
    if (!enabled(model)) {
        return;
    }
    let m = dim(rec(model, MM_M));
    let n = rec(model, MM_N);
    let k = dim(rec(model, MM_K));
    let i0 = wg.y * TILE + lid.y * 4u;
    let j0 = wg.x * TILE + lid.x * 4u;
    if (i0 >= m || j0 >= n) {
        return;
    }
    let a_off = rec(model, MM_A_OFF);
    let a_rs = rec(model, MM_A_RS);
    let a_cs = rec(model, MM_A_CS);
    let b_off = rec(model, MM_B_OFF);
    let b_rs = rec(model, MM_B_RS);
    let b_cs = rec(model, MM_B_CS);
    // Rows and columns past the edge read row/column 0 again (in bounds) and are not written.
    var ar = vec4<u32>(0u);
    var bc = vec4<u32>(0u);
    for (var r = 0u; r < 4u; r = r + 1u) {
        if (i0 + r < m) {
            ar[r] = a_off + (i0 + r) * a_rs;
        } else {
            ar[r] = a_off + i0 * a_rs;
        }
        if (j0 + r < n) {
            bc[r] = b_off + (j0 + r) * b_cs;
        } else {
            bc[r] = b_off + j0 * b_cs;
        }
    }
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var p = 0u; p < k; p = p + 1u) {
        let pa = p * a_cs;
        let pb = p * b_rs;
        let b = vec4<f32>(arena[bc.x + pb], arena[bc.y + pb], arena[bc.z + pb], arena[bc.w + pb]);
        acc0 = acc0 + arena[ar.x + pa] * b;
        acc1 = acc1 + arena[ar.y + pa] * b;
        acc2 = acc2 + arena[ar.z + pa] * b;
        acc3 = acc3 + arena[ar.w + pa] * b;
    }
    store_block(model, i0, j0, m, n, acc0, acc1, acc2, acc3);
}
