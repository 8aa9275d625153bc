//! `Sequential::summary`: Keras's model table.

use super::model::Sequential;
use crate::backend::Backend;
use crate::error::Result;
use crate::nn::layers::Layer;

impl<B: Backend> Sequential<B> {
    /// Keras's `summary()` table as text.
    pub fn summary(&self) -> Result<String> {
        let b = self.built()?;
        let (w1, w2, w3) = (33, 27, 12);
        let bar = |l: char, m: char, r: char, f: char| -> String {
            format!(
                "{l}{}{m}{}{m}{}{r}\n",
                f.to_string().repeat(w1),
                f.to_string().repeat(w2),
                f.to_string().repeat(w3)
            )
        };
        let mut s = format!("Model: \"{}\"\n", self.name);
        s += &bar('┏', '┳', '┓', '━');
        s += &format!(
            "┃ {:<a$} ┃ {:<b$} ┃ {:>c$} ┃\n",
            "Layer (type)",
            "Output Shape",
            "Param #",
            a = w1 - 2,
            b = w2 - 2,
            c = w3 - 2
        );
        s += &bar('┡', '╇', '┩', '━');
        let mut total = 0;
        for (i, layer) in self.layers.iter().enumerate() {
            let count: usize = match b.slots[i] {
                Some((k, bias)) => {
                    b.shapes[k].iter().product::<usize>()
                        + bias.map_or(0, |bi| b.shapes[bi].iter().product())
                }
                None if matches!(layer, Layer::Normalization(_)) => self.non_trainable_params(),
                None => 0,
            };
            total += count;
            let shape = if i == 0
                && matches!(layer, Layer::Dropout(_) | Layer::Activation { .. })
                && b.input_shape.len() > 1
            {
                let dims: Vec<String> = b.input_shape.iter().map(|d| d.to_string()).collect();
                format!("(None, {})", dims.join(", "))
            } else {
                format!("(None, {})", b.widths[i])
            };
            s += &format!(
                "│ {:<a$} │ {:<b$} │ {:>c$} │\n",
                format!("{} ({})", b.names[i], layer.class_name()),
                shape,
                group(count),
                a = w1 - 2,
                b = w2 - 2,
                c = w3 - 2
            );
            s += &if i + 1 < self.layers.len() {
                bar('├', '┼', '┤', '─')
            } else {
                bar('└', '┴', '┘', '─')
            };
        }
        s += &format!(" Total params: {} ({})\n", group(total), bytes(total * 4));
        let fixed = self.non_trainable_params();
        s += &format!(
            " Trainable params: {} ({})\n",
            group(total - fixed),
            bytes((total - fixed) * 4)
        );
        s += &format!(
            " Non-trainable params: {} ({})\n",
            group(fixed),
            bytes(fixed * 4)
        );
        Ok(s)
    }
}

/// 12345 -> "12,345".
fn group(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Keras's byte sizes: "99.41 KB", "2.12 MB".
fn bytes(n: usize) -> String {
    let units = ["B", "KB", "MB", "GB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.2} {}", units[u])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::layers::{flatten, Dense, Dropout};
    use crate::ops::activations::Activation;

    #[test]
    fn summary_matches_keras_layout() {
        let mut m = Sequential::new();
        m.add(flatten());
        m.add(Dense::new(32).activation(Activation::Relu));
        m.add(Dropout::new(0.25));
        m.add(Dense::new(10).activation(Activation::Softmax));
        m.build(&[28, 28]).unwrap();
        let s = m.summary().unwrap();
        assert!(s.starts_with("Model: \"sequential\"\n┏"), "{s}");
        assert!(
            s.contains(
                "│ flatten (Flatten)               │ (None, 784)               │          0 │"
            ),
            "{s}"
        );
        assert!(
            s.contains(
                "│ dense (Dense)                   │ (None, 32)                │     25,120 │"
            ),
            "{s}"
        );
        assert!(
            s.contains(
                "│ dense_1 (Dense)                 │ (None, 10)                │        330 │"
            ),
            "{s}"
        );
        assert!(s.contains(" Total params: 25,450 (99.41 KB)\n"), "{s}");
        assert!(s.contains(" Non-trainable params: 0 (0.00 B)\n"), "{s}");
    }
}
