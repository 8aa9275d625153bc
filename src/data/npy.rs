//! NumPy's `.npy` files, the simplest way to move arrays between Python and tunelab: `np.save`
//! there, [`read_npy`] / [`load_npy`] here, and [`write_npy`] back.
//!
//! A `.npy` file is a magic string, a format version, a little header (a Python dict literal with
//! `descr`, `fortran_order` and `shape`) padded to a multiple of 64 bytes, then the raw values.
//! Versions 1.0, 2.0 and 3.0 are read. Values of any supported numeric dtype become `f32`
//! (`float64` and 64-bit integers lose precision beyond what `f32` holds; booleans become 0/1).
//! Only little-endian (or single-byte) dtypes in C order are read.

use crate::error::{Error, Result};
use crate::tensor::Tensor;
use std::path::Path;

/// The first six bytes of every `.npy` file.
const MAGIC: &[u8] = b"\x93NUMPY";

/// The dtypes [`read_npy`] understands, as written in the header's `descr`.
pub const SUPPORTED_DTYPES: &[&str] = &[
    "<f4", "<f8", "|i1", "<i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "|b1",
];

/// Element types of the supported dtypes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Dtype {
    F4,
    F8,
    I1,
    I2,
    I4,
    I8,
    U1,
    U2,
    U4,
    U8,
    Bool,
}

impl Dtype {
    fn parse(descr: &str) -> Result<Dtype> {
        let unsupported = || {
            Error::data(format!(
                "unsupported .npy dtype {descr:?}; supported dtypes are: {} (little-endian, as \
                 np.save writes on x86 and ARM machines)",
                SUPPORTED_DTYPES.join(", ")
            ))
        };
        let mut chars = descr.chars();
        let order = chars.next().ok_or_else(unsupported)?;
        let code = chars.as_str();
        let dtype = match code {
            "f4" => Dtype::F4,
            "f8" => Dtype::F8,
            "i1" => Dtype::I1,
            "i2" => Dtype::I2,
            "i4" => Dtype::I4,
            "i8" => Dtype::I8,
            "u1" => Dtype::U1,
            "u2" => Dtype::U2,
            "u4" => Dtype::U4,
            "u8" => Dtype::U8,
            "b1" => Dtype::Bool,
            _ => return Err(unsupported()),
        };
        let single_byte = dtype.size() == 1;
        match order {
            '<' => Ok(dtype),
            '|' | '=' if single_byte => Ok(dtype),
            '>' if single_byte => Ok(dtype),
            '>' => Err(Error::data(format!(
                "the .npy file is big-endian ({descr:?}); convert it with \
                 `a.astype(a.dtype.newbyteorder('<'))` before saving. Supported dtypes are: {}",
                SUPPORTED_DTYPES.join(", ")
            ))),
            _ => Err(unsupported()),
        }
    }

    fn size(self) -> usize {
        match self {
            Dtype::I1 | Dtype::U1 | Dtype::Bool => 1,
            Dtype::I2 | Dtype::U2 => 2,
            Dtype::F4 | Dtype::I4 | Dtype::U4 => 4,
            Dtype::F8 | Dtype::I8 | Dtype::U8 => 8,
        }
    }

    /// Converts `bytes` (a whole number of elements) to `f32`.
    fn convert(self, bytes: &[u8]) -> Vec<f32> {
        fn each<const N: usize>(bytes: &[u8], f: impl Fn([u8; N]) -> f32) -> Vec<f32> {
            bytes
                .chunks_exact(N)
                .map(|c| {
                    let mut a = [0u8; N];
                    a.copy_from_slice(c);
                    f(a)
                })
                .collect()
        }
        match self {
            Dtype::F4 => each(bytes, f32::from_le_bytes),
            Dtype::F8 => each(bytes, |a| f64::from_le_bytes(a) as f32),
            Dtype::I1 => each(bytes, |a| f32::from(i8::from_le_bytes(a))),
            Dtype::I2 => each(bytes, |a| f32::from(i16::from_le_bytes(a))),
            Dtype::I4 => each(bytes, |a| i32::from_le_bytes(a) as f32),
            Dtype::I8 => each(bytes, |a| i64::from_le_bytes(a) as f32),
            Dtype::U1 => each(bytes, |a: [u8; 1]| f32::from(a[0])),
            Dtype::U2 => each(bytes, |a| f32::from(u16::from_le_bytes(a))),
            Dtype::U4 => each(bytes, |a| u32::from_le_bytes(a) as f32),
            Dtype::U8 => each(bytes, |a| u64::from_le_bytes(a) as f32),
            Dtype::Bool => each(bytes, |a: [u8; 1]| if a[0] != 0 { 1.0 } else { 0.0 }),
        }
    }
}

/// Reads a `.npy` file held in memory. A 0-d array becomes a tensor of shape `[]` with one value.
///
/// ```
/// use tunelab::{data::npy::{read_npy, write_npy}, Tensor};
/// let t = Tensor::new(vec![2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
/// assert_eq!(read_npy(&write_npy(&t)).unwrap(), t);
/// ```
pub fn read_npy(bytes: &[u8]) -> Result<Tensor> {
    if bytes.get(..MAGIC.len()) != Some(MAGIC) {
        return Err(Error::parse(
            "not a .npy file: it does not start with the magic string \\x93NUMPY",
        ));
    }
    let (major, minor) = match (bytes.get(6), bytes.get(7)) {
        (Some(&a), Some(&b)) => (a, b),
        _ => {
            return Err(Error::parse(
                "truncated .npy file: the format version is missing",
            ))
        }
    };
    let (len_size, utf8) = match (major, minor) {
        (1, 0) => (2usize, false),
        (2, 0) => (4, false),
        (3, 0) => (4, true),
        _ => {
            return Err(Error::parse(format!(
                ".npy format version {major}.{minor} is not supported (1.0, 2.0 and 3.0 are)"
            )))
        }
    };
    let len_bytes = bytes
        .get(8..8 + len_size)
        .ok_or_else(|| Error::parse("truncated .npy file: the header length is missing"))?;
    let header_len = len_bytes
        .iter()
        .rev()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    let header_start = 8 + len_size;
    let data_start = header_start + header_len;
    let header_bytes = bytes.get(header_start..data_start).ok_or_else(|| {
        Error::parse(format!(
            "truncated .npy file: the header should be {header_len} bytes but only {} follow",
            bytes.len().saturating_sub(header_start)
        ))
    })?;
    let header: String = if utf8 {
        std::str::from_utf8(header_bytes)
            .map_err(|e| Error::parse(format!(".npy header is not valid UTF-8: {e}")))?
            .to_string()
    } else {
        // Latin-1: every byte is the code point of the same value.
        header_bytes.iter().map(|&b| char::from(b)).collect()
    };
    let header = parse_header(&header)?;
    if header.fortran_order {
        return Err(Error::data(
            "the .npy array is stored in Fortran (column-major) order, which is not supported; \
             save np.ascontiguousarray(a) instead",
        ));
    }
    let dtype = Dtype::parse(&header.descr)?;
    let nbytes = header
        .shape
        .iter()
        .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::data(format!("the .npy shape {:?} is too large", header.shape)))?;
    let data = bytes.get(data_start..).unwrap_or(&[]);
    let Some(data) = data.get(..nbytes) else {
        return Err(Error::data(format!(
            "truncated .npy file: shape {:?} of {} needs {nbytes} data bytes, found {}",
            header.shape,
            header.descr,
            data.len()
        )));
    };
    Tensor::new(header.shape, dtype.convert(data))
}

/// Writes `t` as a `.npy` file (format 1.0, dtype `<f4`, C order), byte for byte as `np.save`
/// writes a float32 array: the header is padded with spaces to a multiple of 64 bytes, after the
/// spare room NumPy leaves for growing the first axis.
pub fn write_npy(t: &Tensor) -> Vec<u8> {
    let shape = t.shape();
    let shape_repr = match shape {
        [] => "()".to_string(),
        [d] => format!("({d},)"),
        dims => {
            let parts: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
            format!("({})", parts.join(", "))
        }
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_repr}, }}");
    // NumPy's GROWTH_AXIS_MAX_DIGITS (21) minus the digits of the first axis.
    if let Some(first) = shape.first() {
        let digits = first.to_string().len();
        header.push_str(&" ".repeat(21usize.saturating_sub(digits)));
    }
    // Version 1.0 stores the header length in 2 bytes; a header longer than that (thousands of
    // axes) needs version 2.0, as NumPy would pick.
    let hlen = header.len() + 1;
    let (version, len_size) = if hlen + 64 <= usize::from(u16::MAX) {
        (1u8, 2usize)
    } else {
        (2, 4)
    };
    let prefix = MAGIC.len() + 2 + len_size;
    let pad = 64 - (prefix + hlen) % 64;
    let total_header = hlen + pad;
    let mut out = Vec::with_capacity(prefix + total_header + 4 * t.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[version, 0]);
    if len_size == 2 {
        out.extend_from_slice(&(total_header as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(total_header as u32).to_le_bytes());
    }
    out.extend_from_slice(header.as_bytes());
    out.extend(std::iter::repeat_n(b' ', pad));
    out.push(b'\n');
    for v in t.data() {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Reads the `.npy` file at `path` with [`read_npy`].
pub fn load_npy(path: &Path) -> Result<Tensor> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Io(format!("cannot read {}: {e}", path.display())))?;
    read_npy(&bytes).map_err(|e| match e {
        Error::Data(m) => Error::Data(format!("{}: {m}", path.display())),
        Error::Parse(m) => Error::Parse(format!("{}: {m}", path.display())),
        other => other,
    })
}

/// The three entries of a `.npy` header.
#[derive(Debug)]
struct Header {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

/// A value of the Python literal subset that `.npy` headers use.
#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Str(String),
    Int(u64),
    Bool(bool),
    Tuple(Vec<Literal>),
    Dict(Vec<(Literal, Literal)>),
    Other,
}

fn parse_header(text: &str) -> Result<Header> {
    let bad = |why: &str| Error::parse(format!("malformed .npy header ({why}): {:?}", text.trim()));
    let mut p = LiteralParser {
        chars: text.chars().collect(),
        pos: 0,
    };
    let dict = p.value().map_err(|why| bad(&why))?;
    p.skip_ws();
    if p.pos != p.chars.len() {
        return Err(bad("text after the dictionary"));
    }
    let Literal::Dict(entries) = dict else {
        return Err(bad("not a dictionary"));
    };
    let get = |key: &str| {
        entries
            .iter()
            .find(|(k, _)| *k == Literal::Str(key.to_string()))
            .map(|(_, v)| v)
    };
    let descr = match get("descr") {
        Some(Literal::Str(s)) => s.clone(),
        Some(_) => {
            return Err(Error::data(format!(
                "structured .npy dtypes are not supported; supported dtypes are: {}",
                SUPPORTED_DTYPES.join(", ")
            )))
        }
        None => return Err(bad("no 'descr'")),
    };
    let fortran_order = match get("fortran_order") {
        Some(Literal::Bool(b)) => *b,
        _ => return Err(bad("no boolean 'fortran_order'")),
    };
    let shape = match get("shape") {
        Some(Literal::Tuple(dims)) => dims
            .iter()
            .map(|d| match d {
                Literal::Int(v) => usize::try_from(*v).map_err(|_| bad("an axis is too long")),
                _ => Err(bad("'shape' must hold integers")),
            })
            .collect::<Result<Vec<usize>>>()?,
        _ => return Err(bad("no tuple 'shape'")),
    };
    Ok(Header {
        descr,
        fortran_order,
        shape,
    })
}

/// A recursive-descent reader for dicts, tuples/lists, strings, integers, True/False/None.
struct LiteralParser {
    chars: Vec<char>,
    pos: usize,
}

impl LiteralParser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> std::result::Result<Literal, String> {
        self.skip_ws();
        match self.peek() {
            Some('{') => {
                self.pos += 1;
                let mut entries = Vec::new();
                loop {
                    self.skip_ws();
                    if self.peek() == Some('}') {
                        self.pos += 1;
                        return Ok(Literal::Dict(entries));
                    }
                    let key = self.value()?;
                    self.skip_ws();
                    if self.peek() != Some(':') {
                        return Err("expected ':'".into());
                    }
                    self.pos += 1;
                    let val = self.value()?;
                    entries.push((key, val));
                    self.separator('}')?;
                }
            }
            Some(open @ ('(' | '[')) => {
                let close = if open == '(' { ')' } else { ']' };
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        return Ok(Literal::Tuple(items));
                    }
                    items.push(self.value()?);
                    self.separator(close)?;
                }
            }
            Some(q @ ('\'' | '"')) => {
                self.pos += 1;
                let mut s = String::new();
                loop {
                    match self.peek() {
                        None => return Err("unterminated string".into()),
                        Some(c) if c == q => {
                            self.pos += 1;
                            return Ok(Literal::Str(s));
                        }
                        Some('\\') => {
                            self.pos += 1;
                            if let Some(c) = self.peek() {
                                s.push(c);
                                self.pos += 1;
                            }
                        }
                        Some(c) => {
                            s.push(c);
                            self.pos += 1;
                        }
                    }
                }
            }
            Some(c) if c.is_ascii_digit() => {
                let mut v: u64 = 0;
                while let Some(d) = self.peek().and_then(|c| c.to_digit(10)) {
                    v = v
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(u64::from(d)))
                        .ok_or("integer too large")?;
                    self.pos += 1;
                }
                // Python 2 wrote long integers as `3L`.
                if self.peek() == Some('L') {
                    self.pos += 1;
                }
                Ok(Literal::Int(v))
            }
            Some(c) if c.is_alphabetic() => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    self.pos += 1;
                }
                let word: String = self
                    .chars
                    .get(start..self.pos)
                    .unwrap_or(&[])
                    .iter()
                    .collect();
                match word.as_str() {
                    "True" => Ok(Literal::Bool(true)),
                    "False" => Ok(Literal::Bool(false)),
                    "None" => Ok(Literal::Other),
                    _ => Err(format!("unexpected word {word:?}")),
                }
            }
            Some(c) => Err(format!("unexpected {c:?}")),
            None => Err("unexpected end".into()),
        }
    }

    /// After an item: a comma (possibly trailing) or the closing bracket, which is left unread.
    fn separator(&mut self, close: char) -> std::result::Result<(), String> {
        self.skip_ws();
        match self.peek() {
            Some(',') => {
                self.pos += 1;
                Ok(())
            }
            Some(c) if c == close => Ok(()),
            _ => Err(format!("expected ',' or {close:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn round_trip_keeps_shape_and_values() {
        for t in [
            Tensor::new(vec![2, 3], vec![1.5, -2.0, 0.0, 3.25, 1e-7, -1e30]).unwrap(),
            Tensor::vector(vec![1.0, 2.0, 3.0]),
            Tensor::new(vec![], vec![7.0]).unwrap(),
            Tensor::zeros(&[0, 4]),
            Tensor::new(vec![2, 1, 2, 1], vec![1.0, 2.0, 3.0, 4.0]).unwrap(),
        ] {
            let bytes = write_npy(&t);
            // Header padded so that the data start on a 64-byte boundary.
            let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
            assert_eq!((10 + hlen) % 64, 0);
            assert_eq!(bytes[10 + hlen - 1], b'\n');
            assert_eq!(bytes.len(), 10 + hlen + 4 * t.len());
            assert_eq!(read_npy(&bytes).unwrap(), t);
        }
    }

    #[test]
    fn writes_exactly_what_numpy_writes() {
        // np.save of np.array([[1.5, -2, 0], [3.25, 1e-7, -1e30]], dtype="<f4").
        let t = Tensor::new(vec![2, 3], vec![1.5, -2.0, 0.0, 3.25, 1e-7, -1e30]).unwrap();
        assert_eq!(write_npy(&t), fixture("f4_save_2x3.npy"));
        // np.save of np.float32(7.0) as a 0-d array.
        let s = Tensor::new(vec![], vec![7.0]).unwrap();
        assert_eq!(write_npy(&s), fixture("f4_save_scalar.npy"));
    }

    #[test]
    fn reads_numpy_fixtures() {
        let t = read_npy(&fixture("int64_2x3.npy")).unwrap();
        assert_eq!(t.shape(), &[2, 3]);
        assert_eq!(t.data(), &[1.0, -2.0, 3.0, 40.0, 50.0, -60.0]);
        let t = read_npy(&fixture("f8_scalar.npy")).unwrap();
        assert_eq!(t.shape(), &[] as &[usize]);
        assert_eq!(t.data(), &[2.5]);
        let t = read_npy(&fixture("f4_v2_2x2x2.npy")).unwrap();
        assert_eq!(t.shape(), &[2, 2, 2]);
        assert_eq!(t.data(), &[0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75]);
        let t = read_npy(&fixture("u2_v3_4.npy")).unwrap();
        assert_eq!(t.shape(), &[4]);
        assert_eq!(t.data(), &[0.0, 1.0, 65535.0, 7.0]);
        let t = read_npy(&fixture("bool_3.npy")).unwrap();
        assert_eq!(t.data(), &[1.0, 0.0, 1.0]);
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/int64_2x3.npy");
        assert_eq!(load_npy(&path).unwrap().shape(), &[2, 3]);
    }

    #[test]
    fn refuses_fortran_order_and_big_endian() {
        let e = read_npy(&fixture("f4_fortran_2x3.npy"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("Fortran"), "{e}");
        let e = read_npy(&fixture("be_f4_2.npy")).unwrap_err().to_string();
        assert!(e.contains("big-endian") && e.contains("<f4, <f8"), "{e}");
    }

    /// A version 1.0 file with the given header dict and data.
    fn handmade(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut header = dict.to_string();
        while !(10 + header.len() + 1).is_multiple_of(64) {
            header.push(' ');
        }
        header.push('\n');
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn all_supported_dtypes() {
        let cases: [(&str, Vec<u8>, Vec<f32>); 11] = [
            (
                "<f4",
                [0.5f32, -1.0]
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
                vec![0.5, -1.0],
            ),
            (
                "<f8",
                [0.5f64, -1.0]
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
                vec![0.5, -1.0],
            ),
            ("|i1", vec![0xff, 5], vec![-1.0, 5.0]),
            ("<i1", vec![0x80, 5], vec![-128.0, 5.0]),
            (
                "<i2",
                [-300i16, 7].iter().flat_map(|v| v.to_le_bytes()).collect(),
                vec![-300.0, 7.0],
            ),
            (
                "<i4",
                [-70000i32, 7]
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
                vec![-70000.0, 7.0],
            ),
            (
                "<u4",
                [70000u32, 7].iter().flat_map(|v| v.to_le_bytes()).collect(),
                vec![70000.0, 7.0],
            ),
            (
                "<u8",
                [1u64 << 40, 7]
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
                vec![1099511627776.0, 7.0],
            ),
            (
                "<i8",
                [-(1i64 << 40), 7]
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
                vec![-1099511627776.0, 7.0],
            ),
            ("|u1", vec![255, 0], vec![255.0, 0.0]),
            ("|b1", vec![0, 3], vec![0.0, 1.0]),
        ];
        for (descr, data, want) in cases {
            let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (2,), }}");
            let t = read_npy(&handmade(&dict, &data)).unwrap();
            assert_eq!(t.data(), want.as_slice(), "{descr}");
        }
    }

    #[test]
    fn reports_bad_files() {
        let e = read_npy(b"PK\x03\x04 not numpy").unwrap_err().to_string();
        assert!(e.contains("magic"), "{e}");
        assert!(read_npy(b"\x93NUMPY").is_err());
        assert!(read_npy(b"\x93NUMPY\x04\x00\x10\x00")
            .unwrap_err()
            .to_string()
            .contains("version 4.0"));
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        let e = read_npy(&handmade(dict, &[0u8; 20]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs 24 data bytes, found 20"), "{e}");
        let full = handmade(dict, &[0u8; 24]);
        let e = read_npy(&full[..30]).unwrap_err().to_string();
        assert!(e.contains("header should be"), "{e}");
        for descr in ["<c8", "<f2", "<U3", "O"] {
            let d = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (1,), }}");
            let e = read_npy(&handmade(&d, &[0u8; 16])).unwrap_err().to_string();
            assert!(
                e.contains("unsupported") && e.contains("|b1"),
                "{descr}: {e}"
            );
        }
        let d = "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }";
        let e = read_npy(&handmade(d, &[0u8; 4])).unwrap_err().to_string();
        assert!(e.contains("structured"), "{e}");
        for d in [
            "{'descr': '<f4', 'shape': (1,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,) ",
            "['descr']",
        ] {
            let e = read_npy(&handmade(d, &[0u8; 4])).unwrap_err();
            assert!(matches!(e, Error::Parse(_)), "{d}: {e}");
        }
        let huge =
            "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }";
        assert!(read_npy(&handmade(huge, &[])).is_err());
    }
}
