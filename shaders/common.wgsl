// common.wgsl: the bindings and helpers every tunelab kernel shares (prepended to each file).
//
// Bindings (one bind group layout for every pipeline):
//   0 arena  f32, read-write: every model's weights, gradients, optimizer slots, activations and logs
//   1 data   f32, read-only: the data set (inputs, targets, sample weights), shared by all models
//   2 index  u32, read-only: batch row ids (an identity run for evaluation, then each model's epoch)
//   3 table  u32, read-only: this launch's records, REC words per model (z = model slot)
//   4 step   u32, read-only, dynamic offset: this step's header and per-model scalars
// One dispatch covers every model of a group: workgroup_id.z is the model slot.

@group(0) @binding(0) var<storage, read_write> arena: array<f32>;
@group(0) @binding(1) var<storage, read> data: array<f32>;
@group(0) @binding(2) var<storage, read> index: array<u32>;
@group(0) @binding(3) var<storage, read> table: array<u32>;
@group(0) @binding(4) var<storage, read> step: array<u32>;

// REC, NONE, the step's words (S_*, per model M_* at S_HEAD + model * S_MODEL), every record's
// field numbers, and the activation and loss codes (A_*, L_*) are generated from
// src/gpu/records.rs and prepended to this file.
const EPS: f32 = 1e-7;

fn rec(model: u32, field: u32) -> u32 {
    return table[model * REC + field];
}
fn recf(model: u32, field: u32) -> f32 {
    return bitcast<f32>(table[model * REC + field]);
}
fn step_rows() -> u32 {
    return step[S_ROWS];
}
fn model_word(model: u32, field: u32) -> u32 {
    return step[S_HEAD + model * S_MODEL + field];
}
fn model_f(model: u32, field: u32) -> f32 {
    return bitcast<f32>(step[S_HEAD + model * S_MODEL + field]);
}
// A record field that may say "the rows of this step".
fn dim(v: u32) -> u32 {
    if (v == NONE) {
        return step[S_ROWS];
    }
    return v;
}
// A model takes part in this launch when it has a record here and is still training.
fn enabled(model: u32) -> bool {
    return rec(model, REC_ENABLED) != 0u && model_word(model, M_ACTIVE) != 0u;
}

// ---- 64-bit arithmetic on (lo, hi) pairs, for the counter-based dropout hash ----
fn mul32(a: u32, b: u32) -> vec2<u32> {
    let a0 = a & 0xffffu;
    let a1 = a >> 16u;
    let b0 = b & 0xffffu;
    let b1 = b >> 16u;
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
    return vec2<u32>((p00 & 0xffffu) | (mid << 16u), p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u));
}
fn mul64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let p = mul32(a.x, b.x);
    return vec2<u32>(p.x, p.y + a.x * b.y + a.y * b.x);
}
fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let lo = a.x + b.x;
    return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}
fn xorshr64(a: vec2<u32>, s: u32) -> vec2<u32> {
    // a ^ (a >> s) for 0 < s < 32
    return vec2<u32>(a.x ^ ((a.x >> s) | (a.y << (32u - s))), a.y ^ (a.y >> s));
}
// The same SplitMix64-style hash as backend::hash_uniform: uniform in [0, 1).
fn hash_uniform(seed: vec2<u32>, counter: vec2<u32>, i: u32) -> f32 {
    var z = mul64(seed, vec2<u32>(0x7f4a7c15u, 0x9e3779b9u));
    z = add64(z, mul64(counter, vec2<u32>(0xd192ed03u, 0xd1b54a32u)));
    z = add64(z, mul64(vec2<u32>(i, 0u), vec2<u32>(0x133111ebu, 0x94d049bbu)));
    z = mul64(xorshr64(z, 30u), vec2<u32>(0x1ce4e5b9u, 0xbf58476du));
    z = mul64(xorshr64(z, 27u), vec2<u32>(0x133111ebu, 0x94d049bbu));
    z = xorshr64(z, 31u);
    return f32(z.y >> 8u) / 16777216.0;
}
// Inverted dropout's factor for element i: 0 or 1 / (1 - rate).
fn dropout_factor(rate: f32, seed: vec2<u32>, model: u32, i: u32) -> f32 {
    let counter = vec2<u32>(model_word(model, M_COUNTER_LO), model_word(model, M_COUNTER_HI));
    if (hash_uniform(seed, counter, i) >= rate) {
        return 1.0 / (1.0 - rate);
    }
    return 0.0;
}

// ---- activations (A_* codes generated from src/gpu/records.rs) ----
const SELU_ALPHA: f32 = 1.6732632;
const SELU_SCALE: f32 = 1.050701;
const LEAKY_SLOPE: f32 = 0.2;

fn sigmoid(x: f32) -> f32 {
    if (x >= 0.0) {
        return 1.0 / (1.0 + exp(-x));
    }
    let e = exp(x);
    return e / (1.0 + e);
}
fn softplus(x: f32) -> f32 {
    if (x > 0.0) {
        return x + log(1.0 + exp(-x));
    }
    return log(1.0 + exp(x));
}
fn safe_tanh(x: f32) -> f32 {
    let e = exp(-2.0 * abs(x));
    return sign(x) * (1.0 - e) / (1.0 + e);
}
fn expm1(x: f32) -> f32 {
    if (abs(x) < 1e-3) {
        return x + 0.5 * x * x + x * x * x / 6.0;
    }
    return exp(x) - 1.0;
}
// erf with absolute error below 1.5e-7 (Abramowitz and Stegun 7.1.26).
fn erf_approx(x: f32) -> f32 {
    let a = abs(x);
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
    return sign(x) * (1.0 - poly * exp(-a * a));
}
fn act_forward(code: u32, x: f32) -> f32 {
    switch code {
        case A_RELU: { return max(x, 0.0); }
        case A_TANH: { return safe_tanh(x); }
        case A_SIGMOID: { return sigmoid(x); }
        case A_ELU: { return select(expm1(x), x, x > 0.0); }
        case A_SELU: { return select(SELU_SCALE * SELU_ALPHA * expm1(x), SELU_SCALE * x, x > 0.0); }
        case A_GELU: { return 0.5 * x * (1.0 + erf_approx(x * 0.70710678)); }
        case A_LEAKY: { return select(LEAKY_SLOPE * x, x, x >= 0.0); }
        case A_SOFTPLUS: { return softplus(x); }
        case A_SOFTSIGN: { return x / (1.0 + abs(x)); }
        case A_SWISH, A_SILU: { return x * sigmoid(x); }
        case A_HARD_SIGMOID: { return clamp(x / 6.0 + 0.5, 0.0, 1.0); }
        case A_EXPONENTIAL: { return exp(x); }
        default: { return x; }
    }
}
// f'(z) for the elementwise activations (softmax's Jacobian is handled by row kernels).
fn act_derivative(code: u32, z: f32) -> f32 {
    switch code {
        case A_RELU: { return select(0.0, 1.0, z > 0.0); }
        case A_TANH: { let y = safe_tanh(z); return 1.0 - y * y; }
        case A_SIGMOID: { let y = sigmoid(z); return y * (1.0 - y); }
        case A_ELU: { return select(expm1(z) + 1.0, 1.0, z > 0.0); }
        case A_SELU: { return select(SELU_SCALE * SELU_ALPHA * expm1(z) + SELU_SCALE * SELU_ALPHA, SELU_SCALE, z > 0.0); }
        case A_GELU: {
            let cdf = 0.5 * (1.0 + erf_approx(z * 0.70710678));
            let pdf = exp(-0.5 * z * z) * 0.3989423;
            return cdf + z * pdf;
        }
        case A_LEAKY: { return select(LEAKY_SLOPE, 1.0, z >= 0.0); }
        case A_SOFTPLUS: { return sigmoid(z); }
        case A_SOFTSIGN: { let d = 1.0 + abs(z); return 1.0 / (d * d); }
        case A_SWISH, A_SILU: { let s = sigmoid(z); return s + z * s * (1.0 - s); }
        case A_HARD_SIGMOID: { return select(0.0, 1.0 / 6.0, z > -3.0 && z < 3.0); }
        case A_EXPONENTIAL: { return exp(z); }
        default: { return 1.0; }
    }
}
