//! The CSV reader (`--csv`, the page's upload, `tl.csv`): the first bytes choose the label and
//! columns, the rest is the text. A table read has the shape its names say.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use tunelab::data::csv::{csv_header, parse_csv};

fuzz_target!(|data: &[u8]| {
    let Some(text) = common::text(data) else {
        return;
    };
    // "label|col,col\n<csv>" picks the columns from the input itself, so the fuzzer can find
    // names that exist in the header.
    let (pick, body) = match text.split_once('\n') {
        Some((p, b)) if p.contains('|') => (Some(p), b),
        _ => (None, text),
    };
    let (label, cols) = match pick.and_then(|p| p.split_once('|')) {
        Some((l, c)) => (
            (!l.is_empty()).then_some(l),
            (!c.is_empty()).then(|| c.split(',').collect::<Vec<_>>()),
        ),
        None => (None, None),
    };
    match csv_header(body) {
        Ok((names, _rows)) => assert!(!names.is_empty()),
        Err(e) => common::explained(&e),
    }
    match parse_csv(body, label, cols.as_deref()) {
        Ok(t) => {
            assert_eq!(t.x.shape().len(), 2);
            assert_eq!(t.x.shape()[1], t.feature_names.len());
            if let Some(y) = &t.y {
                assert_eq!(y.shape()[0], t.x.shape()[0]);
            }
            assert!(t.x.data().iter().all(|v| v.is_finite()));
        }
        Err(e) => common::explained(&e),
    }
});
