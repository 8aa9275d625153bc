//! The records the WGSL kernels read, typed: one `#[repr(C)]` struct per kernel record (and the
//! step's header and per-model words), each field a `u32` or an `f32` word. The shaders name
//! every field by a constant (`MM_C_OFF`, `LOSS_KIND`, `S_ROWS`, ...) and every activation,
//! loss, mode and flag by a code (`A_RELU`, `L_HUBER`, `MM_KERNEL_GRAD`, `OPT_AMSGRAD`, ...);
//! [`wgsl_prelude`] generates all of them from these structs and from the same code functions
//! the launchers use, and is prepended to every shader, so a field moved, added or retyped here
//! moves in the shaders too and cannot drift.

use crate::ops::activations::Activation;
use crate::ops::losses::LossKind;

/// Words per model record in a launch table (`REC` in the shaders).
pub const REC: usize = 32;
/// The record word that says "this model has a part in this launch" (set to 1).
pub const REC_ENABLED: usize = 31;
/// Words of the step header, before the per-model words (`S_HEAD`).
pub const S_HEAD: usize = 8;
/// Words per model in a step record (`S_MODEL`).
pub const S_MODEL: usize = 16;
/// "The rows of this step" for a dimension, or an absent offset (`NONE` in the shaders).
pub const NONE: u32 = u32::MAX;

/// One 32-bit word of a record: a `u32` as it is, an `f32` by its bits.
pub trait Word: Copy {
    fn word(self) -> u32;
    /// The field's type in WGSL (for the generated comments).
    const WGSL: &'static str;
}

impl Word for u32 {
    fn word(self) -> u32 {
        self
    }
    const WGSL: &'static str = "u32";
}

impl Word for f32 {
    fn word(self) -> u32 {
        self.to_bits()
    }
    const WGSL: &'static str = "f32";
}

/// A record of words whose field numbers the shaders take from [`wgsl_prelude`].
pub trait GpuRecord {
    /// The prefix of its field constants in WGSL (`MM` gives `MM_C_OFF`).
    const PREFIX: &'static str;
    /// Every field: name, word number, WGSL type; in order.
    fn fields() -> Vec<(&'static str, usize, &'static str)>;
    /// The record's words, field by field.
    fn words(&self) -> Vec<u32>;
}

macro_rules! gpu_record {
    ($(#[$m:meta])* $name:ident, $prefix:literal, {
        $( $(#[$fm:meta])* $field:ident : $ty:ty ),* $(,)?
    }) => {
        $(#[$m])*
        #[repr(C)]
        #[derive(Debug, Clone, Copy, PartialEq, Default)]
        pub struct $name {
            $( $(#[$fm])* pub $field: $ty, )*
        }

        impl GpuRecord for $name {
            const PREFIX: &'static str = $prefix;
            fn fields() -> Vec<(&'static str, usize, &'static str)> {
                vec![$((
                    stringify!($field),
                    ::core::mem::offset_of!($name, $field) / 4,
                    <$ty as Word>::WGSL,
                )),*]
            }
            fn words(&self) -> Vec<u32> {
                vec![$( Word::word(self.$field) ),*]
            }
        }
    };
}

gpu_record!(
    /// matmul.wgsl: C (m x n) = op(A) (m x k) * op(B) (k x n), element (i, p) of op(A) at
    /// `a_off + i * a_rs + p * a_cs` (transposes are strides), then the epilogue of `mode`.
    MatmulRec, "MM", {
        /// Rows of C, or NONE: the step's rows.
        m: u32,
        n: u32,
        /// Depth, or NONE: the step's rows.
        k: u32,
        a_off: u32,
        a_rs: u32,
        a_cs: u32,
        b_off: u32,
        b_rs: u32,
        b_cs: u32,
        c_off: u32,
        /// MM_FORWARD, MM_KERNEL_GRAD or MM_INPUT_GRAD.
        mode: u32,
        /// Forward: the bias (NONE: none).
        bias_off: u32,
        /// Forward: the activation; input gradient: the activation of the layer below.
        act: u32,
        /// Forward: where z is written; input gradient: z of the layer below (NONE: none).
        z_off: u32,
        drop_rate: f32,
        drop_seed_lo: u32,
        drop_seed_hi: u32,
        /// Kernel gradient: the regularizer, on the weights at `w_off`.
        l1: f32,
        l2: f32,
        w_off: u32,
    }
);

gpu_record!(
    /// gather.wgsl `gather_rows`: the step's rows of `cols` from the data at `src_off`, picked
    /// by the index at `idx_off` + the cursor, into the arena at `dst_off`; the same rows of two
    /// more segments (`b_*`, `c_*`, the same layout each; cols 0: none).
    GatherRec, "GATHER", {
        cols: u32,
        src_off: u32,
        dst_off: u32,
        idx_off: u32,
        b_cols: u32,
        b_src_off: u32,
        b_dst_off: u32,
        c_cols: u32,
        c_src_off: u32,
        c_dst_off: u32,
        /// Input dropout, on the first segment only.
        drop_rate: f32,
        drop_seed_lo: u32,
        drop_seed_hi: u32,
    }
);

gpu_record!(
    /// gather.wgsl `log_rows`: the step's rows of `cols` at `src_off` to `dst_off` + cursor rows.
    LogRowsRec, "LOG", {
        cols: u32,
        src_off: u32,
        dst_off: u32,
    }
);

gpu_record!(
    /// activation.wgsl `softmax_rows`: y = softmax(z) per row.
    SoftmaxRec, "SOFTMAX", {
        cols: u32,
        z_off: u32,
        y_off: u32,
    }
);

gpu_record!(
    /// activation.wgsl `softmax_backward`: g = y * (g - sum(g * y)) per row, in place.
    SoftmaxBackRec, "SOFTMAX_BACK", {
        cols: u32,
        y_off: u32,
        g_off: u32,
    }
);

gpu_record!(
    /// loss.wgsl: the loss gradient at the output, fused with the output activation's backward.
    LossRec, "LOSS", {
        cols: u32,
        yp_off: u32,
        z_off: u32,
        yt_off: u32,
        target_cols: u32,
        /// Sample weights (NONE: none).
        w_off: u32,
        dz_off: u32,
        /// A loss code (`L_*`).
        kind: u32,
        from_logits: u32,
        label_smoothing: f32,
        delta: f32,
        /// The output activation (`A_*`).
        act: u32,
        /// Where the row's predictions are also logged (NONE: none).
        log_off: u32,
    }
);

gpu_record!(
    /// reduce.wgsl `bias_grad`: column sums of dz plus the bias regularizer's gradient.
    BiasGradRec, "BIAS", {
        cols: u32,
        dz_off: u32,
        out_off: u32,
        b_off: u32,
        l1: f32,
        l2: f32,
    }
);

gpu_record!(
    /// reduce.wgsl `penalty` and `grad_sq_norm`: one layer's two tensors (kernel, then bias
    /// with the same layout), reduced into `out_off + 2 * layer + t`.
    ReduceRec, "REDUCE", {
        kernel_off: u32,
        kernel_len: u32,
        kernel_l1: f32,
        kernel_l2: f32,
        bias_off: u32,
        bias_len: u32,
        bias_l1: f32,
        bias_l2: f32,
        out_off: u32,
        layer: u32,
        per_step: u32,
    }
);

gpu_record!(
    /// reduce.wgsl `clip_grads`: one layer's gradients (kernel, then bias with the same layout)
    /// scaled by clipnorm or global_clipnorm.
    ClipRec, "CLIP", {
        kernel_off: u32,
        kernel_len: u32,
        bias_off: u32,
        bias_len: u32,
        norms_off: u32,
        tensors: u32,
        /// CLIP_PER_TENSOR or CLIP_GLOBAL.
        mode: u32,
        layer: u32,
        c: f32,
    }
);

gpu_record!(
    /// optimizer.wgsl: one model's update over its `count` parameters.
    UpdateRec, "OPT", {
        count: u32,
        params_off: u32,
        grads_off: u32,
        /// The optimizer's slots, in a row (`OPT_SLOT0 + s`).
        slot0: u32,
        slot1: u32,
        slot2: u32,
        /// OPT_NESTEROV | OPT_AMSGRAD | OPT_CENTERED.
        flags: u32,
        momentum: f32,
        beta_1: f32,
        beta_2: f32,
        epsilon: f32,
        rho: f32,
        /// 0: none.
        weight_decay: f32,
        /// 0: none.
        clipvalue: f32,
    }
);

gpu_record!(
    /// The step record's header (the step buffer, at the step's dynamic offset).
    StepHead, "S", {
        rows: u32,
        cursor: u32,
        training: u32,
        log_step: u32,
    }
);

gpu_record!(
    /// One model's words in a step record (at `S_HEAD + model * S_MODEL`).
    ModelStepWords, "M", {
        active: u32,
        counter_lo: u32,
        counter_hi: u32,
        hinge_binary: u32,
        lr: f32,
        b1p: f32,
        b2p: f32,
        ut: f32,
        ut1: f32,
        uprod: f32,
    }
);

/// Matmul epilogues (`MatmulRec::mode`).
pub const MM_FORWARD: u32 = 0;
pub const MM_KERNEL_GRAD: u32 = 1;
pub const MM_INPUT_GRAD: u32 = 2;
/// Clipping modes (`ClipRec::mode`).
pub const CLIP_PER_TENSOR: u32 = 1;
pub const CLIP_GLOBAL: u32 = 2;
/// Optimizer flags (`UpdateRec::flags`).
pub const OPT_NESTEROV: u32 = 1;
pub const OPT_AMSGRAD: u32 = 2;
pub const OPT_CENTERED: u32 = 4;

/// Every activation with its name in the shaders (`A_` + name).
pub const ACTIVATIONS: [(Activation, &str); 15] = [
    (Activation::Linear, "LINEAR"),
    (Activation::Relu, "RELU"),
    (Activation::Tanh, "TANH"),
    (Activation::Sigmoid, "SIGMOID"),
    (Activation::Softmax, "SOFTMAX"),
    (Activation::Elu, "ELU"),
    (Activation::Selu, "SELU"),
    (Activation::Gelu, "GELU"),
    (Activation::LeakyRelu, "LEAKY"),
    (Activation::Softplus, "SOFTPLUS"),
    (Activation::Softsign, "SOFTSIGN"),
    (Activation::Swish, "SWISH"),
    (Activation::Silu, "SILU"),
    (Activation::HardSigmoid, "HARD_SIGMOID"),
    (Activation::Exponential, "EXPONENTIAL"),
];

/// Every loss with its name in the shaders (`L_` + name).
pub const LOSSES: [(LossKind, &str); 11] = [
    (LossKind::MeanSquaredError, "MSE"),
    (LossKind::MeanAbsoluteError, "MAE"),
    (LossKind::MeanAbsolutePercentageError, "MAPE"),
    (LossKind::MeanSquaredLogarithmicError, "MSLE"),
    (LossKind::Huber, "HUBER"),
    (LossKind::LogCosh, "LOGCOSH"),
    (LossKind::BinaryCrossentropy, "BCE"),
    (LossKind::CategoricalCrossentropy, "CCE"),
    (LossKind::SparseCategoricalCrossentropy, "SCCE"),
    (LossKind::Hinge, "HINGE"),
    (LossKind::KlDivergence, "KLD"),
];

/// The code an activation has in the shaders.
pub fn activation_code(a: Activation) -> u32 {
    use Activation::*;
    match a {
        Linear => 0,
        Relu => 1,
        Tanh => 2,
        Sigmoid => 3,
        Softmax => 4,
        Elu => 5,
        Selu => 6,
        Gelu => 7,
        LeakyRelu => 8,
        Softplus => 9,
        Softsign => 10,
        Swish => 11,
        Silu => 12,
        HardSigmoid => 13,
        Exponential => 14,
    }
}

/// The code a loss has in the shaders.
pub fn loss_code(k: LossKind) -> u32 {
    use LossKind::*;
    match k {
        MeanSquaredError => 0,
        MeanAbsoluteError => 1,
        MeanAbsolutePercentageError => 2,
        MeanSquaredLogarithmicError => 3,
        Huber => 4,
        LogCosh => 5,
        BinaryCrossentropy => 6,
        CategoricalCrossentropy => 7,
        SparseCategoricalCrossentropy => 8,
        Hinge => 9,
        KlDivergence => 10,
    }
}

fn consts_of<R: GpuRecord>(out: &mut String) {
    out.push_str(&format!("// {} record\n", R::PREFIX));
    for (name, word, ty) in R::fields() {
        out.push_str(&format!(
            "const {}_{}: u32 = {word}u; // {ty}\n",
            R::PREFIX,
            name.to_ascii_uppercase()
        ));
    }
}

/// The WGSL every shader starts with, generated from this file: the table and step sizes,
/// every record's field numbers, and the activation, loss, mode and flag codes.
pub fn wgsl_prelude() -> String {
    let mut s =
        String::from("// Generated from src/gpu/records.rs (do not edit in the shaders).\n");
    for (name, v) in [
        ("REC", REC as u32),
        ("REC_ENABLED", REC_ENABLED as u32),
        ("S_HEAD", S_HEAD as u32),
        ("S_MODEL", S_MODEL as u32),
        ("MM_FORWARD", MM_FORWARD),
        ("MM_KERNEL_GRAD", MM_KERNEL_GRAD),
        ("MM_INPUT_GRAD", MM_INPUT_GRAD),
        ("CLIP_PER_TENSOR", CLIP_PER_TENSOR),
        ("CLIP_GLOBAL", CLIP_GLOBAL),
        ("OPT_NESTEROV", OPT_NESTEROV),
        ("OPT_AMSGRAD", OPT_AMSGRAD),
        ("OPT_CENTERED", OPT_CENTERED),
    ] {
        s.push_str(&format!("const {name}: u32 = {v}u;\n"));
    }
    s.push_str(&format!("const NONE: u32 = 0x{NONE:x}u;\n"));
    consts_of::<MatmulRec>(&mut s);
    consts_of::<GatherRec>(&mut s);
    consts_of::<LogRowsRec>(&mut s);
    consts_of::<SoftmaxRec>(&mut s);
    consts_of::<SoftmaxBackRec>(&mut s);
    consts_of::<LossRec>(&mut s);
    consts_of::<BiasGradRec>(&mut s);
    consts_of::<ReduceRec>(&mut s);
    consts_of::<ClipRec>(&mut s);
    consts_of::<UpdateRec>(&mut s);
    consts_of::<StepHead>(&mut s);
    consts_of::<ModelStepWords>(&mut s);
    for (a, name) in ACTIVATIONS {
        s.push_str(&format!("const A_{name}: u32 = {}u;\n", activation_code(a)));
    }
    for (l, name) in LOSSES {
        s.push_str(&format!("const L_{name}: u32 = {}u;\n", loss_code(l)));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<R: GpuRecord + Default>(max_words: usize) {
        let fields = R::fields();
        assert!(
            fields.len() <= max_words,
            "{} has too many fields",
            R::PREFIX
        );
        for (i, (name, word, _)) in fields.iter().enumerate() {
            assert_eq!(
                *word,
                i,
                "{}_{name}: words in field order, no padding",
                R::PREFIX
            );
        }
        assert_eq!(R::default().words().len(), fields.len());
    }

    fn word<R: GpuRecord>(name: &str) -> usize {
        R::fields()
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|f| f.1)
            .unwrap_or(usize::MAX)
    }

    #[test]
    fn records_fit_their_tables_and_mirror_where_the_shaders_stride() {
        for f in [
            check::<MatmulRec> as fn(usize),
            check::<GatherRec>,
            check::<LogRowsRec>,
            check::<SoftmaxRec>,
            check::<SoftmaxBackRec>,
            check::<LossRec>,
            check::<BiasGradRec>,
            check::<ReduceRec>,
            check::<ClipRec>,
            check::<UpdateRec>,
        ] {
            f(REC_ENABLED);
        }
        check::<StepHead>(S_HEAD);
        check::<ModelStepWords>(S_MODEL);
        // The shaders step from one segment or tensor to the next by the distance between
        // their first fields: the rest must follow at the same distances.
        let g = |n: &str| word::<GatherRec>(n);
        assert_eq!(g("b_src_off") - g("b_cols"), g("c_src_off") - g("c_cols"));
        assert_eq!(g("b_dst_off") - g("b_cols"), g("c_dst_off") - g("c_cols"));
        let r = |n: &str| word::<ReduceRec>(n);
        for t in ["len", "l1", "l2"] {
            assert_eq!(
                r(&format!("kernel_{t}")) - r("kernel_off"),
                r(&format!("bias_{t}")) - r("bias_off")
            );
        }
        let c = |n: &str| word::<ClipRec>(n);
        assert_eq!(
            c("kernel_len") - c("kernel_off"),
            c("bias_len") - c("bias_off")
        );
        let o = |n: &str| word::<UpdateRec>(n);
        assert_eq!((o("slot1"), o("slot2")), (o("slot0") + 1, o("slot0") + 2));
    }

    #[test]
    fn codes_are_distinct_and_dense() {
        let mut a: Vec<u32> = ACTIVATIONS
            .iter()
            .map(|(a, _)| activation_code(*a))
            .collect();
        a.sort();
        assert_eq!(a, (0..ACTIVATIONS.len() as u32).collect::<Vec<_>>());
        let mut l: Vec<u32> = LOSSES.iter().map(|(l, _)| loss_code(*l)).collect();
        l.sort();
        assert_eq!(l, (0..LOSSES.len() as u32).collect::<Vec<_>>());
    }

    #[test]
    fn the_prelude_names_every_field_once() {
        let p = wgsl_prelude();
        assert!(p.contains("const MM_C_OFF: u32 = 9u; // u32\n"), "{p}");
        assert!(p.contains("const LOSS_DELTA: u32 = 10u; // f32\n"), "{p}");
        assert!(p.contains("const A_SOFTMAX: u32 = 4u;\n"), "{p}");
        assert!(p.contains("const S_LOG_STEP: u32 = 3u;"), "{p}");
        let mut names: Vec<&str> = p
            .lines()
            .filter_map(|l| l.strip_prefix("const "))
            .filter_map(|l| l.split(':').next())
            .collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n, "a constant defined twice");
    }

    /// The shaders read record words by name only: no `rec(model, 3u)` with a bare number, so a
    /// field cannot be read at an old position.
    #[test]
    fn shaders_read_records_by_name() {
        for (file, src) in super::super::SHADERS {
            for (i, line) in src.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for call in ["rec(model, ", "recf(model, "] {
                    let mut rest = code;
                    while let Some(at) = rest.find(call) {
                        rest = &rest[at + call.len()..];
                        assert!(
                            !rest.starts_with(|c: char| c.is_ascii_digit()),
                            "{file}:{}: a record word by number: {line}",
                            i + 1
                        );
                    }
                }
                // The activation and loss switches (matmul's switch over a block's rows is no code).
                let t = code.trim();
                let coded = matches!(file, "common.wgsl" | "loss.wgsl");
                assert!(
                    !(coded
                        && t.starts_with("case ")
                        && t[5..].starts_with(|c: char| c.is_ascii_digit())),
                    "{file}:{}: a case by number, not by its code's name: {line}",
                    i + 1
                );
            }
        }
    }
}
