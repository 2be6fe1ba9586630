//! CPU-heavy work (image decoding, QR reading, photo checks) runs on the blocking pool behind a
//! semaphore, so a burst of uploads cannot starve the async runtime or exhaust memory.
use crate::{
    AppState,
    error::{AppError, AppResult},
};

pub async fn run<T, F>(state: &AppState, work: F) -> AppResult<T>
where
    F: FnOnce() -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    let permit = state
        .cpu
        .clone()
        .acquire_owned()
        .await
        .map_err(AppError::internal)?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await
    .map_err(AppError::internal)?
}
