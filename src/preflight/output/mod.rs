//! The preflight report's renderers, one per format.

pub mod json;
pub mod sarif;
pub mod text;
