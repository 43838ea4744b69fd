//! A generic `AsyncTask`: run a closure on the libuv pool (the closure itself fans out over
//! rayon), catch panics, and convert the result on the main thread.
use napi::bindgen_prelude::*;
use napi::{Env, Task};
use std::panic::{catch_unwind, AssertUnwindSafe};

pub struct Job<T, F>
where
    F: FnOnce() -> Result<T> + Send,
{
    work: Option<F>,
}

impl<T, F> Job<T, F>
where
    F: FnOnce() -> Result<T> + Send,
{
    pub fn new(work: F) -> AsyncTask<Self>
    where
        T: ToNapiValue + TypeName + Send + 'static,
        F: 'static,
    {
        AsyncTask::new(Job { work: Some(work) })
    }
}

impl<T, F> Task for Job<T, F>
where
    T: ToNapiValue + TypeName + Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    type Output = T;
    type JsValue = T;

    fn compute(&mut self) -> Result<T> {
        let work = self
            .work
            .take()
            .ok_or_else(|| Error::new(Status::GenericFailure, "task already ran"))?;
        match catch_unwind(AssertUnwindSafe(work)) {
            Ok(r) => r,
            Err(p) => {
                let msg = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                Err(Error::new(
                    Status::GenericFailure,
                    format!("internal error (panic in native code): {msg}"),
                ))
            }
        }
    }

    fn resolve(&mut self, _env: Env, output: T) -> Result<T> {
        Ok(output)
    }
}
