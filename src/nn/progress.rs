//! What `fit`, `evaluate` and `predict` print: Keras 3's progress bar, its `verbose=2` epoch
//! line, and its number format. Natively to stdout; in WebAssembly through `console.log` (the
//! browser's or Node's console), where a line cannot be redrawn: the progress bar shows there
//! once it is complete.

use crate::nn::history::Logs;
#[cfg(not(target_arch = "wasm32"))]
use std::io::Write;
use web_time::Instant;

/// Prints one finished line: stdout natively, `console.log` in WebAssembly.
pub(crate) fn print_line(line: &str) {
    #[cfg(not(target_arch = "wasm32"))]
    println!("{line}");
    #[cfg(target_arch = "wasm32")]
    console_log(line);
}

#[cfg(target_arch = "wasm32")]
fn console_log(line: &str) {
    use wasm_bindgen::{JsCast, JsValue};
    let log = js_sys::Reflect::get(&js_sys::global(), &"console".into())
        .and_then(|c| js_sys::Reflect::get(&c, &"log".into()).map(|f| (c, f)));
    if let Ok((console, f)) = log {
        if let Ok(f) = f.dyn_into::<js_sys::Function>() {
            let _ = f.call1(&console, &JsValue::from(line));
        }
    }
}

/// Keras's number format in logs: 4 decimals, scientific below 1e-3.
pub fn fmt_value(v: f32) -> String {
    if v != 0.0 && v.abs() < 1e-3 {
        format!("{v:.4e}")
    } else {
        format!("{v:.4}")
    }
}

/// Keras 3's progress bar line (`12/45 ━━━━━━━━━━━━━━━━━━━━ 1s 5ms/step - loss: 0.2345`).
pub(super) fn progress(done: usize, total: usize, started: Instant, logs: &Logs, finished: bool) {
    let width = 20;
    let filled = (width * done).checked_div(total).unwrap_or(width);
    let secs = started.elapsed().as_secs_f64();
    let per_step = secs / done.max(1) as f64;
    let time = if finished {
        format!("{}s {}", secs.round() as u64, step_time(per_step))
    } else {
        format!(
            "{}s {}",
            ((total - done) as f64 * per_step).round() as u64,
            step_time(per_step)
        )
    };
    let tw = total.to_string().len();
    let line = format!(
        "{done:>tw$}/{total} {}{} {time}{}",
        "━".repeat(filled),
        "─".repeat(width - filled),
        with_logs(logs)
    );
    #[cfg(not(target_arch = "wasm32"))]
    {
        let mut out = std::io::stdout();
        let _ = out.write_all(format!("\r{line}").as_bytes());
        if finished {
            let _ = out.write_all(b"\n");
        }
        let _ = out.flush();
    }
    #[cfg(target_arch = "wasm32")]
    if finished {
        console_log(&line);
    }
}

/// Keras 3's `verbose=2` line: `45/45 - 1s - 5ms/step - loss: 0.2345`.
pub(super) fn epoch_line(steps: usize, started: Instant, logs: &Logs) {
    let secs = started.elapsed().as_secs_f64();
    print_line(&format!(
        "{steps}/{steps} - {}s - {}{}",
        secs.round() as u64,
        step_time(secs / steps.max(1) as f64),
        with_logs(logs)
    ));
}

/// ` - name: value - ...` after a progress line, or nothing without logs (`predict`).
fn with_logs(logs: &Logs) -> String {
    if logs.iter().next().is_none() {
        String::new()
    } else {
        format!(" - {}", sorted_logs(logs))
    }
}

/// `name: value` pairs sorted by name, joined with " - ", as Keras's progress bar shows them.
fn sorted_logs(logs: &Logs) -> String {
    let mut keys: Vec<(&str, f32)> = logs.iter().collect();
    keys.sort_by(|a, b| a.0.cmp(b.0));
    let vals: Vec<String> = keys
        .iter()
        .map(|(k, v)| format!("{k}: {}", fmt_value(*v)))
        .collect();
    vals.join(" - ")
}

fn step_time(s: f64) -> String {
    if s >= 1.0 {
        format!("{}s/step", s.round() as u64)
    } else if s >= 1e-3 {
        format!("{}ms/step", (s * 1e3).round() as u64)
    } else {
        format!("{}us/step", (s * 1e6).round() as u64)
    }
}
