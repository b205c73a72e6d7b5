//! The AWS Step Functions wire protocol: `POST /` with `X-Amz-Target:
//! AWSStepFunctions.<Action>`, JSON 1.0 bodies, AWS's error shapes.
//!
//! [`shapes`] checks request bodies against AWS's service model (required members,
//! types, lengths, patterns) with AWS's `ValidationException` wording; [`arn`] parses
//! Step Functions ARNs; [`sigv4`] checks request signatures when keys are configured.
//! This is the only crate that knows the wire format.

mod actions;
pub mod arn;
mod error;
mod listen;
mod page_token;
mod server;
pub mod shapes;
pub mod sigv4;

pub use error::ApiError;
pub use listen::{serve, BODY_TIMEOUT, HEADER_TIMEOUT};
pub use server::{router, router_with_sigv4, CONTENT_TYPE};
