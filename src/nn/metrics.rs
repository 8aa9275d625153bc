//! TEMP stub until the metrics module lands.
use crate::Result;
pub trait Metric: Send {
    fn name(&self) -> &str;
    fn update_state(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        n: usize,
        sample_weight: Option<&[f32]>,
    ) -> Result<()>;
    fn result(&self) -> f32;
    fn reset_state(&mut self);
    fn boxed_clone(&self) -> Box<dyn Metric>;
}
pub fn get_metric(identifier: &str, _t: &[usize], _p: &[usize]) -> Result<Box<dyn Metric>> {
    Ok(get_metric_dummy(identifier))
}
struct Dummy(String);
impl Metric for Dummy {
    fn name(&self) -> &str {
        &self.0
    }
    fn update_state(&mut self, _: &[f32], _: &[f32], _: usize, _: Option<&[f32]>) -> Result<()> {
        Ok(())
    }
    fn result(&self) -> f32 {
        0.0
    }
    fn reset_state(&mut self) {}
    fn boxed_clone(&self) -> Box<dyn Metric> {
        Box::new(Dummy(self.0.clone()))
    }
}
pub fn get_metric_dummy(identifier: &str) -> Box<dyn Metric> {
    Box::new(Dummy(identifier.into()))
}
