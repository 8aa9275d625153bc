//! A 3-class table whose columns differ in scale by orders of magnitude (shared by the test
//! files that include it with `#[path]`).

use tunelab::Tensor;

/// A 3-class table like scikit-learn's wine data: six informative columns, three of them in
/// the thousands (offset and wide), three below one. Deterministic.
pub fn scaled_table(n: usize, seed: u64) -> (Tensor, Tensor) {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut unif = move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) as f32
    };
    let gauss = move |u: &mut dyn FnMut() -> f32| {
        let (a, b) = (u().max(1e-7), u());
        (-2.0 * a.ln()).sqrt() * (std::f32::consts::TAU * b).cos()
    };
    let centers = [[-1.0f32, 0.5, 1.0], [1.0, -1.0, 0.0], [0.0, 1.0, -1.0]];
    let scales = [1500.0f32, 300.0, 40.0, 0.1, 0.05, 0.8];
    let offsets = [5000.0f32, 800.0, 100.0, 0.3, 0.02, 2.0];
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for i in 0..n {
        let c = i % 3;
        for (j, (sc, off)) in scales.iter().zip(&offsets).enumerate() {
            let v = centers[c][j % 3] + 0.6 * gauss(&mut unif);
            x.push(off + sc * v);
        }
        let mut one = [0.0; 3];
        one[c] = 1.0;
        y.extend(one);
    }
    (
        Tensor::new(vec![n, 6], x).unwrap(),
        Tensor::new(vec![n, 3], y).unwrap(),
    )
}

/// The table as CSV: a header `c0..c5,label`, the class id in the last column.
#[allow(dead_code)]
pub fn csv((x, y): &(Tensor, Tensor)) -> String {
    let mut out = String::from("c0,c1,c2,c3,c4,c5,label\n");
    for r in 0..x.rows() {
        for v in &x.data()[r * 6..r * 6 + 6] {
            out += &format!("{v},");
        }
        let c = y.data()[r * 3..r * 3 + 3]
            .iter()
            .position(|v| *v == 1.0)
            .unwrap_or(0);
        out += &format!("{c}\n");
    }
    out
}
