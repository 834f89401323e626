//! The lab engine: runs typed steps, grades typed checks, verifies breaks, undoes setups. It
//! never knows which backend it drives: backends implement `node::Node` and
//! `cluster::Cluster`, and `crate::backend` is the one place that picks one.

pub mod api;
pub mod checks;
pub mod cluster;
pub mod edit;
pub mod fault;
pub mod keypath;
pub mod node;
pub mod run;
pub mod steps;
#[cfg(test)]
pub mod testing;
pub mod undo;
pub mod verdict;
