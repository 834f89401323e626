//! The lab engine: runs typed steps, grades typed checks, verifies breaks. It never knows
//! which backend it drives.

pub mod backend;
pub mod changes;
pub mod checks;
pub mod edit;
pub mod keypath;
pub mod report;
pub mod steps;
