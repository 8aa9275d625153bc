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

const REC: u32 = 32u;
const NONE: u32 = 0xffffffffu;
const EPS: f32 = 1e-7;

// Step header words.
const S_ROWS: u32 = 0u;
const S_CURSOR: u32 = 1u;
const S_TRAINING: u32 = 2u;
const S_LOG_STEP: u32 = 3u;
const S_HEAD: u32 = 8u;
const S_MODEL: u32 = 16u;
// Per-model step words (at S_HEAD + model * S_MODEL).
const M_ACTIVE: u32 = 0u;
const M_COUNTER_LO: u32 = 1u;
const M_COUNTER_HI: u32 = 2u;
const M_HINGE_BINARY: u32 = 3u;
const M_LR: u32 = 4u;
const M_B1P: u32 = 5u;
const M_B2P: u32 = 6u;
const M_UT: u32 = 7u;
const M_UT1: u32 = 8u;
const M_UPROD: u32 = 9u;

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
    return rec(model, 31u) != 0u && model_word(model, M_ACTIVE) != 0u;
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

// ---- activations (codes follow nn::Activation's order) ----
const A_LINEAR: u32 = 0u;
const A_RELU: u32 = 1u;
const A_TANH: u32 = 2u;
const A_SIGMOID: u32 = 3u;
const A_SOFTMAX: u32 = 4u;
const A_ELU: u32 = 5u;
const A_SELU: u32 = 6u;
const A_GELU: u32 = 7u;
const A_LEAKY: u32 = 8u;
const A_SOFTPLUS: u32 = 9u;
const A_SOFTSIGN: u32 = 10u;
const A_SWISH: u32 = 11u;
const A_SILU: u32 = 12u;
const A_HARD_SIGMOID: u32 = 13u;
const A_EXPONENTIAL: u32 = 14u;
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
        case 1u: { return max(x, 0.0); }
        case 2u: { return safe_tanh(x); }
        case 3u: { return sigmoid(x); }
        case 5u: { return select(expm1(x), x, x > 0.0); }
        case 6u: { return select(SELU_SCALE * SELU_ALPHA * expm1(x), SELU_SCALE * x, x > 0.0); }
        case 7u: { return 0.5 * x * (1.0 + erf_approx(x * 0.70710678)); }
        case 8u: { return select(LEAKY_SLOPE * x, x, x >= 0.0); }
        case 9u: { return softplus(x); }
        case 10u: { return x / (1.0 + abs(x)); }
        case 11u, 12u: { return x * sigmoid(x); }
        case 13u: { return clamp(x / 6.0 + 0.5, 0.0, 1.0); }
        case 14u: { return exp(x); }
        default: { return x; }
    }
}
// f'(z) for the elementwise activations (softmax's Jacobian is handled by row kernels).
fn act_derivative(code: u32, z: f32) -> f32 {
    switch code {
        case 1u: { return select(0.0, 1.0, z > 0.0); }
        case 2u: { let y = safe_tanh(z); return 1.0 - y * y; }
        case 3u: { let y = sigmoid(z); return y * (1.0 - y); }
        case 5u: { return select(expm1(z) + 1.0, 1.0, z > 0.0); }
        case 6u: { return select(SELU_SCALE * SELU_ALPHA * expm1(z) + SELU_SCALE * SELU_ALPHA, SELU_SCALE, z > 0.0); }
        case 7u: {
            let cdf = 0.5 * (1.0 + erf_approx(z * 0.70710678));
            let pdf = exp(-0.5 * z * z) * 0.3989423;
            return cdf + z * pdf;
        }
        case 8u: { return select(LEAKY_SLOPE, 1.0, z >= 0.0); }
        case 9u: { return sigmoid(z); }
        case 10u: { let d = 1.0 + abs(z); return 1.0 / (d * d); }
        case 11u, 12u: { let s = sigmoid(z); return s + z * s * (1.0 - s); }
        case 13u: { return select(0.0, 1.0 / 6.0, z > -3.0 && z < 3.0); }
        case 14u: { return exp(z); }
        default: { return 1.0; }
    }
}
