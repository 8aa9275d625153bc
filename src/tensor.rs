//! Host tensors: a shape and row-major `f32` data. Datasets, weights and predictions cross the
//! public API as `Tensor`s; backends copy them to wherever they compute.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// A dense row-major `f32` array with a shape. The first axis is the sample axis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tensor {
    shape: Vec<usize>,
    data: Vec<f32>,
}

impl Tensor {
    /// A tensor of `shape` holding `data` (row-major). Fails when the sizes disagree.
    ///
    /// ```
    /// let t = tunelab::Tensor::new(vec![2, 3], vec![0.0; 6]).unwrap();
    /// assert_eq!(t.rows(), 2);
    /// assert_eq!(t.cols(), 3);
    /// ```
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Result<Self> {
        let n: usize = shape.iter().product();
        if n != data.len() {
            return Err(Error::invalid(
                "tensor data",
                format!("{} values", data.len()),
                format!("exactly {n} values for shape {shape:?}"),
            ));
        }
        Ok(Tensor { shape, data })
    }

    /// All zeros.
    pub fn zeros(shape: &[usize]) -> Self {
        let n = shape.iter().product();
        Tensor {
            shape: shape.to_vec(),
            data: vec![0.0; n],
        }
    }

    /// A 2-D tensor from rows of equal length.
    pub fn from_rows(rows: &[Vec<f32>]) -> Result<Self> {
        let cols = rows.first().map_or(0, |r| r.len());
        let mut data = Vec::with_capacity(rows.len() * cols);
        for (i, r) in rows.iter().enumerate() {
            if r.len() != cols {
                return Err(Error::shape(format!("row {i}"), &[cols], &[r.len()]));
            }
            data.extend_from_slice(r);
        }
        Tensor::new(vec![rows.len(), cols], data)
    }

    /// A 1-D tensor.
    pub fn vector(data: Vec<f32>) -> Self {
        Tensor {
            shape: vec![data.len()],
            data,
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Row-major values.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// Mutable row-major values.
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// The values, consuming the tensor.
    pub fn into_data(self) -> Vec<f32> {
        self.data
    }

    /// Number of samples (size of the first axis; 1 for a scalar).
    pub fn rows(&self) -> usize {
        self.shape.first().copied().unwrap_or(1)
    }

    /// Number of values per sample (product of the axes after the first).
    pub fn cols(&self) -> usize {
        if self.shape.is_empty() {
            1
        } else {
            self.shape[1..].iter().product()
        }
    }

    /// Number of values in all.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor holds no values.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The values of sample `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        let c = self.cols();
        &self.data[i * c..(i + 1) * c]
    }

    /// The same data seen with another shape of the same size.
    pub fn reshape(mut self, shape: Vec<usize>) -> Result<Self> {
        let n: usize = shape.iter().product();
        if n != self.data.len() {
            return Err(Error::shape("reshape", &shape, &self.shape));
        }
        self.shape = shape;
        Ok(self)
    }

    /// Samples `idx` (in that order) as a new tensor.
    pub fn gather_rows(&self, idx: &[usize]) -> Tensor {
        let c = self.cols();
        let mut data = Vec::with_capacity(idx.len() * c);
        for &i in idx {
            data.extend_from_slice(&self.data[i * c..(i + 1) * c]);
        }
        let mut shape = self.shape.clone();
        if shape.is_empty() {
            shape.push(idx.len());
        } else {
            shape[0] = idx.len();
        }
        Tensor { shape, data }
    }

    /// Samples `start..end` as a new tensor.
    pub fn slice_rows(&self, start: usize, end: usize) -> Tensor {
        let c = self.cols();
        let mut shape = self.shape.clone();
        if shape.is_empty() {
            shape.push(end - start);
        } else {
            shape[0] = end - start;
        }
        Tensor {
            shape,
            data: self.data[start * c..end * c].to_vec(),
        }
    }

    /// Fails with a message naming `what` when any value is NaN or infinite.
    pub fn check_finite(&self, what: &str) -> Result<()> {
        if let Some(i) = self.data.iter().position(|v| !v.is_finite()) {
            let c = self.cols().max(1);
            return Err(Error::data(format!(
                "{what} holds a non-finite value ({}) at sample {}, column {}; remove or impute NaN and infinite values",
                self.data[i],
                i / c,
                i % c
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_and_rows() {
        let t = Tensor::new(vec![2, 2, 2], (0..8).map(|v| v as f32).collect()).unwrap();
        assert_eq!(t.rows(), 2);
        assert_eq!(t.cols(), 4);
        assert_eq!(t.row(1), &[4.0, 5.0, 6.0, 7.0]);
        let g = t.gather_rows(&[1, 0]);
        assert_eq!(g.shape(), &[2, 2, 2]);
        assert_eq!(g.data()[0], 4.0);
        assert!(Tensor::new(vec![3], vec![1.0]).is_err());
    }

    #[test]
    fn non_finite_is_reported_with_position() {
        let t = Tensor::new(vec![2, 2], vec![0.0, 1.0, f32::NAN, 2.0]).unwrap();
        let e = t.check_finite("x").unwrap_err().to_string();
        assert!(e.contains("sample 1, column 0"), "{e}");
    }
}
