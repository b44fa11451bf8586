//! What the apps' integration tests share. Test code only: no app depends on it
//! outside `[dev-dependencies]`.

pub mod http;
pub mod proxy;
