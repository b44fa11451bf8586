//! What the apps' integration tests share: [`app`] starts the real app on port 0 with
//! test settings, [`http`] talks to it and checks problem+json answers, [`openapi`]
//! keeps the committed OpenAPI documents in sync, [`proxy`] puts a cuttable proxy
//! between an app and its backing service, and — behind features — fresh resources on
//! the shared services: [`postgres`] databases, [`redis`] key prefixes, [`kafka`]
//! topics. Test code only: no app depends on it outside `[dev-dependencies]`.

pub mod app;
pub mod http;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod openapi;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod proxy;
#[cfg(feature = "redis")]
pub mod redis;
