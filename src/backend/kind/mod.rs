//! The kind backend's outside world: kind's node containers reached through docker or podman,
//! and the `kind` command line, all driven with argv only. Nothing here touches a container
//! that does not carry ckalab's cluster label, or the learner's own kubeconfig.

pub mod backend;
pub mod cli;
pub mod cluster;
pub mod external;
pub mod node;
pub mod node_commands;
pub mod releases;
