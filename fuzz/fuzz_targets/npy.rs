//! The .npy reader (`--x`/`--y` files): any bytes give a tensor whose size matches its shape,
//! or an explained error; a tensor read writes back and reads again unchanged.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use tunelab::data::npy::{read_npy, write_npy};

fuzz_target!(|data: &[u8]| {
    match read_npy(data) {
        Ok(t) => {
            let n: usize = t.shape().iter().product();
            assert_eq!(n, t.data().len());
            let again = read_npy(&write_npy(&t)).expect("a written .npy reads back");
            assert_eq!(again.shape(), t.shape());
            let same = again
                .data()
                .iter()
                .zip(t.data())
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same);
        }
        Err(e) => common::explained(&e),
    }
});
