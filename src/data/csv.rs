//! Reading a numeric table from CSV text, the format people export from spreadsheets and pandas.
//!
//! The first line names the columns. One column may be picked as the label (the target `y`); the
//! feature columns (`x`) are the ones asked for, or all the others. Only the columns that are used
//! must hold numbers, so an id or name column can stay in the file. Fields are separated by
//! commas; double-quoted fields (`"a,b"`, `""` for a quote inside) are understood, as are a byte
//! order mark, CRLF line ends, blank lines and a missing or present final newline. Fields that
//! span lines are not. Every error names the line (1-based, as an editor counts), the column and
//! the offending text.

use crate::error::{Error, Result};
use crate::tensor::Tensor;
use std::path::Path;

/// The largest CSV text read (256 MiB): files beyond it are refused before they are read.
pub const MAX_CSV_BYTES: usize = 256 << 20;

fn check_size(bytes: usize, what: &str) -> Result<()> {
    if bytes > MAX_CSV_BYTES {
        return Err(Error::invalid(
            what,
            format!("{bytes} bytes"),
            format!("CSV data of at most {MAX_CSV_BYTES} bytes (256 MiB)"),
        ));
    }
    Ok(())
}

/// A table read from CSV: the feature matrix, the optional label column and their names.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvData {
    /// Features, shape `[rows, feature_names.len()]`.
    pub x: Tensor,
    /// The label column, shape `[rows, 1]`, when a label was named.
    pub y: Option<Tensor>,
    /// Names of the columns of `x`, in order.
    pub feature_names: Vec<String>,
    /// Name of the label column, when one was named.
    pub label_name: Option<String>,
}

/// Parses CSV text whose first line is a header.
///
/// * `label`: the name of the column to return as `y` (`None`: no `y`).
/// * `columns`: the feature columns, in the order wanted (`None`: every column but the label).
///
/// ```
/// use tunelab::data::csv::parse_csv;
/// let text = "age,income,bought\n31,52000,1\n45,61000,0\n";
/// let t = parse_csv(text, Some("bought"), None).unwrap();
/// assert_eq!(t.feature_names, ["age", "income"]);
/// assert_eq!(t.x.shape(), &[2, 2]);
/// assert_eq!(t.y.unwrap().data(), &[1.0, 0.0]);
///
/// let e = parse_csv("age,bought\n31,1\nabc,0\n", Some("bought"), None).unwrap_err();
/// assert!(e.to_string().contains(r#"line 3, column "age": "abc" is not a number"#));
/// ```
pub fn parse_csv(text: &str, label: Option<&str>, columns: Option<&[&str]>) -> Result<CsvData> {
    check_size(text.len(), "CSV text")?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)));
    let header_line = match lines.next() {
        Some((_, l)) if !l.trim().is_empty() => l,
        _ => {
            return Err(Error::data(
                "the CSV text is empty; its first line must be a header naming the columns",
            ))
        }
    };
    let header = split_fields(header_line, 1)?;
    let names: Vec<&str> = header.iter().map(String::as_str).collect();

    let label_idx = label.map(|name| find_column(&names, name)).transpose()?;
    let feature_idx: Vec<usize> = match columns {
        Some(cols) => {
            if cols.is_empty() {
                return Err(Error::invalid(
                    "columns",
                    "an empty list",
                    "one or more column names from the header (or None for all but the label)",
                ));
            }
            let mut idx = Vec::with_capacity(cols.len());
            for &name in cols {
                let i = find_column(&names, name)?;
                if Some(i) == label_idx {
                    return Err(Error::invalid(
                        "columns",
                        format!("{name:?}"),
                        "feature columns other than the label column",
                    ));
                }
                if idx.contains(&i) {
                    return Err(Error::invalid(
                        "columns",
                        format!("{name:?} listed twice"),
                        "each feature column once",
                    ));
                }
                idx.push(i);
            }
            idx
        }
        None => (0..names.len()).filter(|&i| Some(i) != label_idx).collect(),
    };
    if feature_idx.is_empty() {
        return Err(Error::data(
            "the CSV has no feature columns: its only column is the label",
        ));
    }

    let name_of = |i: usize| names.get(i).copied().unwrap_or("");
    let mut x = Vec::new();
    let mut y = Vec::new();
    let mut rows = 0usize;
    for (line_no, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields = split_fields(line, line_no)?;
        if fields.len() != names.len() {
            return Err(Error::data(format!(
                "line {line_no}: expected {} fields (as in the header), found {}",
                names.len(),
                fields.len()
            )));
        }
        let cell = |i: usize| -> Result<f32> {
            let raw = fields.get(i).map(String::as_str).unwrap_or("");
            parse_number(raw, line_no, name_of(i))
        };
        for &i in &feature_idx {
            x.push(cell(i)?);
        }
        if let Some(i) = label_idx {
            y.push(cell(i)?);
        }
        rows += 1;
    }
    if rows == 0 {
        return Err(Error::data("the CSV has a header but no data rows"));
    }
    let x = Tensor::new(vec![rows, feature_idx.len()], x)?;
    let y = match label_idx {
        Some(_) => Some(Tensor::new(vec![rows, 1], y)?),
        None => None,
    };
    Ok(CsvData {
        x,
        y,
        feature_names: feature_idx
            .iter()
            .map(|&i| name_of(i).to_string())
            .collect(),
        label_name: label_idx.map(|i| name_of(i).to_string()),
    })
}

/// The column names of CSV text (its header line), with the number of data rows, without
/// reading any cell as a number: what a page shows to let the user pick the label and features.
///
/// ```
/// use tunelab::data::csv::csv_header;
/// let (names, rows) = csv_header("id,\"a,b\",y\r\n1,2,3\n\n4,5,6").unwrap();
/// assert_eq!(names, ["id", "a,b", "y"]);
/// assert_eq!(rows, 2);
/// ```
pub fn csv_header(text: &str) -> Result<(Vec<String>, usize)> {
    check_size(text.len(), "CSV text")?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let header = match lines.next() {
        Some(l) if !l.trim().is_empty() => split_fields(l, 1)?,
        _ => {
            return Err(Error::data(
                "the CSV text is empty; its first line must be a header naming the columns",
            ))
        }
    };
    let rows = lines.filter(|l| !l.trim().is_empty()).count();
    Ok((header, rows))
}

/// Reads the file at `path` and parses it with [`parse_csv`].
pub fn load_csv(path: &Path, label: Option<&str>, columns: Option<&[&str]>) -> Result<CsvData> {
    let size = std::fs::metadata(path)
        .map_err(|e| Error::Io(format!("cannot read {}: {e}", path.display())))?
        .len();
    check_size(
        usize::try_from(size).unwrap_or(usize::MAX),
        &format!("CSV file {}", path.display()),
    )?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Io(format!("cannot read {}: {e}", path.display())))?;
    parse_csv(&text, label, columns)
}

/// The index of the header column `name`; unknown or ambiguous names are errors.
fn find_column(names: &[&str], name: &str) -> Result<usize> {
    let mut hits = names
        .iter()
        .enumerate()
        .filter(|(_, &n)| n == name)
        .map(|(i, _)| i);
    match (hits.next(), hits.next()) {
        (Some(i), None) => Ok(i),
        (Some(_), Some(_)) => Err(Error::data(format!(
            "the header names column {name:?} more than once; rename one of them"
        ))),
        (None, _) => Err(Error::unknown("column", name, names)),
    }
}

/// One number of the table, or an error naming its place.
fn parse_number(raw: &str, line_no: usize, column: &str) -> Result<f32> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(Error::data(format!(
            "line {line_no}, column {column:?}: the value is empty; fill in or drop missing values"
        )));
    }
    let v: f32 = s.parse().map_err(|_| {
        Error::data(format!(
            "line {line_no}, column {column:?}: {s:?} is not a number"
        ))
    })?;
    if !v.is_finite() {
        return Err(Error::data(format!(
            "line {line_no}, column {column:?}: {s:?} is not a finite number (NaN, infinite and \
             beyond-f32-range values are not allowed)"
        )));
    }
    Ok(v)
}

/// Splits one line at commas, honouring double quotes; fields come back unquoted and trimmed.
fn split_fields(line: &str, line_no: usize) -> Result<Vec<String>> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        // Skip blanks before the field.
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => {
                        return Err(Error::data(format!(
                            "line {line_no}: a quoted field is not closed (fields spanning lines \
                             are not supported)"
                        )))
                    }
                }
            }
            while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
                chars.next();
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(c) => {
                    return Err(Error::data(format!(
                        "line {line_no}: unexpected {c:?} after the closing quote of field {}",
                        fields.len() + 1
                    )))
                }
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field.trim().to_string());
                        return Ok(fields);
                    }
                    Some(',') => {
                        fields.push(field.trim().to_string());
                        break;
                    }
                    Some(c) => field.push(c),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg<T: std::fmt::Debug>(r: Result<T>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn label_and_default_features() {
        let t = parse_csv("a,b,c\n1,2,3\n4,5.5,-6e-1\n", Some("b"), None).unwrap();
        assert_eq!(t.feature_names, ["a", "c"]);
        assert_eq!(t.label_name.as_deref(), Some("b"));
        assert_eq!(t.x.shape(), &[2, 2]);
        assert_eq!(t.x.data(), &[1.0, 3.0, 4.0, -0.6]);
        let y = t.y.unwrap();
        assert_eq!(y.shape(), &[2, 1]);
        assert_eq!(y.data(), &[2.0, 5.5]);
    }

    #[test]
    fn no_label_and_chosen_columns() {
        let text = "id,name,w,h\n1,ann,2.5,3\n2,bob,4,5";
        let t = parse_csv(text, None, Some(&["h", "w"])).unwrap();
        assert!(t.y.is_none() && t.label_name.is_none());
        assert_eq!(t.feature_names, ["h", "w"]);
        assert_eq!(t.x.data(), &[3.0, 2.5, 5.0, 4.0]);
        // Unused text columns are fine; using one is not.
        let e = msg(parse_csv(text, None, None));
        assert!(
            e.contains(r#"line 2, column "name": "ann" is not a number"#),
            "{e}"
        );
        let t = parse_csv(text, Some("id"), Some(&["w"])).unwrap();
        assert_eq!(t.y.unwrap().data(), &[1.0, 2.0]);
    }

    #[test]
    fn crlf_quotes_bom_and_blank_lines() {
        let text = "\u{feff}\"x 1\",\"a,b\", y\r\n\"1\",2, 3 \r\n\r\n 4 ,\"5\",6\r\n";
        let t = parse_csv(text, Some("y"), None).unwrap();
        assert_eq!(t.feature_names, ["x 1", "a,b"]);
        assert_eq!(t.x.data(), &[1.0, 2.0, 4.0, 5.0]);
        assert_eq!(t.y.unwrap().data(), &[3.0, 6.0]);
        let t = parse_csv("\"say \"\"hi\"\"\"\n1\n", None, None).unwrap();
        assert_eq!(t.feature_names, ["say \"hi\""]);
    }

    #[test]
    fn errors_name_line_column_and_value() {
        let text = "age,score\n1,2\n3,4\n5,6\n7,8\n9,10\nabc,12\n";
        let e = msg(parse_csv(text, None, None));
        assert_eq!(
            e,
            r#"bad data: line 7, column "age": "abc" is not a number"#
        );
        let e = msg(parse_csv("a,b\n1,2\n3\n", None, None));
        assert!(
            e.contains("line 3: expected 2 fields (as in the header), found 1"),
            "{e}"
        );
        let e = msg(parse_csv("a,b\n1,2,3\n", None, None));
        assert!(
            e.contains("line 2: expected 2 fields") && e.contains("found 3"),
            "{e}"
        );
        for bad in ["NaN", "inf", "-infinity", "1e39"] {
            let e = msg(parse_csv(&format!("a,b\n1,2\n3,{bad}\n"), None, None));
            assert!(
                e.contains(&format!(
                    r#"line 3, column "b": "{bad}" is not a finite number"#
                )),
                "{e}"
            );
        }
        let e = msg(parse_csv("a,b\n1,\n", None, None));
        assert!(
            e.contains(r#"line 2, column "b": the value is empty"#),
            "{e}"
        );
        let e = msg(parse_csv("a,b\n\"1,2\n", None, None));
        assert!(e.contains("line 2: a quoted field is not closed"), "{e}");
        let e = msg(parse_csv("a,b\n\"1\"x,2\n", None, None));
        assert!(e.contains("line 2: unexpected 'x'"), "{e}");
    }

    #[test]
    fn names_and_shapes_are_checked() {
        let e = parse_csv("a,b\n1,2\n", Some("c"), None).unwrap_err();
        assert_eq!(e, Error::unknown("column", "c", &["a", "b"]));
        let e = parse_csv("a,b\n1,2\n", None, Some(&["a", "z"])).unwrap_err();
        assert_eq!(e, Error::unknown("column", "z", &["a", "b"]));
        assert!(parse_csv("a,b\n1,2\n", Some("a"), Some(&["a"])).is_err());
        assert!(parse_csv("a,b\n1,2\n", None, Some(&["a", "a"])).is_err());
        assert!(parse_csv("a,b\n1,2\n", None, Some(&[])).is_err());
        assert!(parse_csv("a,a\n1,2\n", Some("a"), None).is_err());
        assert!(parse_csv("y\n1\n", Some("y"), None).is_err());
    }

    #[test]
    fn empty_inputs_are_data_errors() {
        for text in ["", "\n", "\r\n\r\n", "a,b", "a,b\n", "a,b\r\n\r\n"] {
            let e = parse_csv(text, None, None).unwrap_err();
            assert!(matches!(e, Error::Data(_)), "{text:?}: {e}");
        }
    }

    #[test]
    fn load_from_file() {
        let dir = std::env::temp_dir().join(format!("tunelab-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.csv");
        std::fs::write(&path, "u,v\n1,2\n").unwrap();
        let t = load_csv(&path, Some("v"), None).unwrap();
        assert_eq!(t.x.data(), &[1.0]);
        std::fs::remove_dir_all(&dir).unwrap();
        let e = load_csv(&path, None, None).unwrap_err();
        assert!(
            matches!(e, Error::Io(_)) && e.to_string().contains("t.csv"),
            "{e}"
        );
    }
}
