//! One integration-test binary (one link step on a 2-core CI), one module per area.

mod bad_input;
mod cli;
mod lint;
mod util;
