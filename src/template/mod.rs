//! Templates read the way their engine renders them (issue #14): a reader per engine with the
//! byte span of every piece, and renderings of a template for chosen branches and values, mapped
//! back to the template's own bytes.

pub mod cloudformation;
pub mod gofmt;
pub mod render;
pub mod terraform;
pub mod vars;
