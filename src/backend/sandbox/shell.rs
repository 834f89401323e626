//! The node's own `systemctl`, `journalctl` and `crictl`: small programs (ckalab itself, behind
//! shims on the shell's PATH) that act on the sandbox's units, journals and static pods the way
//! the real tools act on a node.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::container_log;
use super::journal::Journal;
use super::node::NODE_NAME;
use super::state::{StateFiles, UnitAction};

/// Where the shims live, as a node path.
pub const BIN_DIR: &str = "/var/lib/ckalab/bin";

pub const TOOLS: [&str; 3] = ["systemctl", "journalctl", "crictl"];

/// Writes the shims that route the tools to `ckalab __node <root> <tool>`. Inside the node's
/// view `CKALAB_EXE` and `CKALAB_NODE` say where ckalab and the node's `/` are there.
pub fn install_shims(root: &Path, exe: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = root.join(BIN_DIR.trim_start_matches('/'));
    std::fs::create_dir_all(&dir)?;
    for tool in TOOLS {
        let path = dir.join(tool);
        let script = format!(
            "#!/bin/sh\n# The sandbox node's {tool}, provided by ckalab.\nexec \"${{CKALAB_EXE:-{}}}\" __node \"${{CKALAB_NODE:-{}}}\" {tool} \"$@\"\n",
            exe.display(),
            root.display()
        );
        std::fs::write(&path, script)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

/// Runs one tool; returns its exit code.
pub fn run_tool(root: &Path, tool: &str, args: &[String]) -> i32 {
    let out = &mut std::io::stdout().lock();
    let result = match tool {
        "systemctl" => systemctl(root, args, out),
        "journalctl" => journalctl(root, args, out),
        "crictl" => crictl(root, args, out),
        _ => Err(format!("unknown node tool {tool}")),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("{message}");
            1
        }
    }
}

type ToolResult = Result<i32, String>;

fn unit_name(arg: &str) -> &str {
    arg.trim_end_matches(".service")
}

fn systemctl(root: &Path, args: &[String], out: &mut impl Write) -> ToolResult {
    let files = StateFiles::new(root);
    let positional: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let Some((&verb, units)) = positional.split_first() else {
        return Err(
            "usage: systemctl status|start|stop|restart|enable|disable|is-active|is-enabled|daemon-reload <unit>".into(),
        );
    };
    if matches!(verb, "daemon-reload" | "reload") {
        return Ok(0);
    }
    let now = args.iter().any(|a| a == "--now");
    let mut code = 0;
    for unit in units.iter().map(|u| unit_name(u)) {
        if !super::state::UNITS.contains(&unit) {
            eprintln!("Unit {unit}.service could not be found.");
            code = 4;
            continue;
        }
        let action = match verb {
            "start" => Some(UnitAction::Start),
            "stop" => Some(UnitAction::Stop),
            "restart" => Some(UnitAction::Restart),
            "enable" | "disable" => {
                let enable = verb == "enable";
                let link = format!("/etc/systemd/system/multi-user.target.wants/{unit}.service");
                if enable != files.is_enabled(unit) {
                    files.set_enabled(unit, enable).map_err(|e| e.to_string())?;
                    if enable {
                        eprintln!(
                            "Created symlink {link} → /usr/lib/systemd/system/{unit}.service."
                        );
                    } else {
                        eprintln!("Removed \"{link}\".");
                    }
                }
                // `--now` also starts or stops it.
                now.then_some(if enable {
                    UnitAction::Start
                } else {
                    UnitAction::Stop
                })
            }
            "is-enabled" => {
                let enabled = files.is_enabled(unit);
                writeln!(out, "{}", if enabled { "enabled" } else { "disabled" })
                    .map_err(|e| e.to_string())?;
                code = if enabled { code } else { 1 };
                continue;
            }
            "status" | "is-active" => None,
            other => return Err(format!("Unknown command verb '{other}'.")),
        };
        if matches!(verb, "enable" | "disable") && action.is_none() {
            continue;
        }
        if let Some(action) = action {
            let generation = files.request(unit, action).map_err(|e| e.to_string())?;
            wait(|| files.read_state().is_some_and(|s| s.units.get(unit).is_some_and(|u| u.generation >= generation)))
                .map_err(|_| format!("Job for {unit}.service timed out: is the sandbox node running? (`ckalab status`)"))?;
            continue;
        }
        let state = files.read_state().unwrap_or_default();
        let u = state.units.get(unit).cloned().unwrap_or_default();
        let active = if u.active.is_empty() {
            "inactive"
        } else {
            u.active.as_str()
        };
        if verb == "is-active" {
            writeln!(out, "{active}").map_err(|e| e.to_string())?;
            code = if active == "active" { code } else { 3 };
            continue;
        }
        let description = match unit {
            "kubelet" => "kubelet: The Kubernetes Node Agent",
            _ => "containerd container runtime",
        };
        let detail = match u.sub.as_str() {
            "auto-restart" => "activating (auto-restart) (Result: exit-code)".to_string(),
            "" => "inactive (dead)".to_string(),
            sub => format!("{active} ({sub})"),
        };
        let _ = writeln!(out, "● {unit}.service - {description}");
        let enabled = if files.is_enabled(unit) {
            "enabled"
        } else {
            "disabled"
        };
        let _ = writeln!(
            out,
            "     Loaded: loaded (/usr/lib/systemd/system/{unit}.service; {enabled}; preset: enabled)"
        );
        let _ = writeln!(out, "     Active: {detail} since {}", u.since);
        if u.pid > 0 {
            let _ = writeln!(out, "   Main PID: {} ({unit})", u.pid);
        }
        let _ = writeln!(out);
        for line in tail(&Journal::new(root, NODE_NAME).path(unit), 10) {
            let _ = writeln!(out, "{line}");
        }
        if active != "active" {
            code = 3;
        }
    }
    Ok(code)
}

fn journalctl(root: &Path, args: &[String], out: &mut impl Write) -> ToolResult {
    let mut units = Vec::new();
    let mut lines: Option<usize> = None;
    let mut follow = false;
    let mut iter = args.iter().map(String::as_str);
    while let Some(arg) = iter.next() {
        match arg {
            "-u" | "--unit" => units.extend(iter.next().map(unit_name)),
            "-n" | "--lines" => lines = iter.next().and_then(|n| n.parse().ok()),
            "-f" | "--follow" => follow = true,
            a if a.starts_with("--unit=") => units.push(unit_name(&a["--unit=".len()..])),
            a if a.starts_with("-u") && a.len() > 2 => units.push(unit_name(&a[2..])),
            a if a.starts_with("-n") && a.len() > 2 => lines = a[2..].parse().ok(),
            // -x, -e, -l, --no-pager and friends change nothing here.
            _ => {}
        }
    }
    if units.is_empty() {
        units.extend(super::state::UNITS);
    }
    let journal = Journal::new(root, NODE_NAME);
    let mut all: Vec<String> = units
        .iter()
        .flat_map(|u| tail(&journal.path(u), usize::MAX))
        .collect();
    all.sort_by(|a, b| a.get(..15).cmp(&b.get(..15)));
    let skip = lines.map_or(0, |n| all.len().saturating_sub(n));
    for line in &all[skip..] {
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
    }
    if follow {
        let mut seen: Vec<usize> = units
            .iter()
            .map(|u| tail(&journal.path(u), usize::MAX).len())
            .collect();
        loop {
            std::thread::sleep(Duration::from_millis(300));
            for (i, unit) in units.iter().enumerate() {
                let now = tail(&journal.path(unit), usize::MAX);
                for line in now.iter().skip(seen[i]) {
                    writeln!(out, "{line}").map_err(|e| e.to_string())?;
                }
                out.flush().map_err(|e| e.to_string())?;
                seen[i] = now.len();
            }
        }
    }
    Ok(0)
}

fn crictl(root: &Path, args: &[String], out: &mut impl Write) -> ToolResult {
    // `--name NAME` (or `--name=NAME`) filters `ps` by container name; crictl takes a regular
    // expression, a plain name is what learners type.
    let mut name_filter = None;
    let mut positional: Vec<&str> = Vec::new();
    let mut words = args.iter().map(String::as_str);
    while let Some(word) = words.next() {
        match word {
            "--name" => name_filter = words.next(),
            _ if word.starts_with("--name=") => name_filter = word.strip_prefix("--name="),
            _ if word.starts_with('-') => {}
            _ => positional.push(word),
        }
    }
    let all = args.iter().any(|a| a == "-a" || a == "--all");
    let endpoint = crictl_endpoint(root);
    // Like the real crictl, every command first needs the runtime to answer CRI.
    let version = runtime_version(root, &endpoint)
        .map_err(|e| format!("FATA[0000] validate service connection: {e}"))?;
    let state = StateFiles::new(root).read_state().unwrap_or_default();
    match positional.as_slice() {
        ["version"] | [] => {
            let _ = writeln!(
                out,
                "Version:  0.1.0\nRuntimeName:  {}\nRuntimeVersion:  {}\nRuntimeApiVersion:  {}",
                version.runtime_name, version.runtime_version, version.runtime_api_version
            );
        }
        ["ps"] | ["pods"] => {
            let _ = writeln!(
                out,
                "CONTAINER       STATE     CREATED   ATTEMPT  NAME                       POD"
            );
            for (name, pod) in &state.pods {
                if !all && pod.state != "Running" || name_filter.is_some_and(|f| !name.contains(f))
                {
                    continue;
                }
                let created = pod.started_at.get(11..19).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "{:<15} {:<9} {:<9} {:<8} {:<26} {name}-{NODE_NAME}",
                    pod.container_id, pod.state, created, pod.attempt, name
                );
            }
        }
        ["logs", id] | ["logs", _, id] => {
            let pod = state
                .pods
                .values()
                .find(|p| p.container_id.starts_with(id))
                .ok_or_else(|| format!("FATA[0000] container \"{id}\" not found"))?;
            let tail_n = args
                .iter()
                .position(|a| a == "--tail")
                .and_then(|i| args.get(i + 1).map(String::as_str))
                .or_else(|| args.iter().find_map(|a| a.strip_prefix("--tail=")))
                .and_then(|n| n.parse().ok())
                .unwrap_or(usize::MAX);
            // `-p`: the container this one replaced, whose log the kubelet keeps beside it.
            let previous = args.iter().any(|a| a == "-p" || a == "--previous");
            let log = match previous {
                false => pod.log.clone(),
                true => match pod.attempt.checked_sub(1) {
                    Some(before) => pod
                        .log
                        .replace(&format!("/{}.log", pod.attempt), &format!("/{before}.log")),
                    None => {
                        return Err(format!(
                            "FATA[0000] container \"{id}\" has no previous instance: it is the pod's first"
                        ));
                    }
                },
            };
            // As crictl does: each line to the stream the container wrote it on, so
            // `crictl logs ID > file` keeps only stdout (a component's klog is all stderr).
            for line in tail(&root.join(log.trim_start_matches('/')), tail_n) {
                let message = container_log::message(&line);
                if container_log::is_stderr(&line) {
                    eprintln!("{message}");
                } else {
                    let _ = writeln!(out, "{message}");
                }
            }
        }
        ["stop", id] => {
            let (name, _) = state
                .pods
                .iter()
                .find(|(_, p)| p.container_id.starts_with(id))
                .ok_or_else(|| format!("FATA[0000] container \"{id}\" not found"))?;
            super::state::write_atomic(&StateFiles::new(root).pod_restart_path(name), b"stop")
                .map_err(|e| e.to_string())?;
            let _ = writeln!(out, "{id}");
        }
        [verb, ..] => {
            return Err(format!(
                "crictl {verb}: not available on the sandbox node (ps, logs, stop, version are)"
            ));
        }
    }
    Ok(0)
}

/// The runtime endpoint crictl uses: /etc/crictl.yaml's, else containerd's.
fn crictl_endpoint(root: &Path) -> String {
    std::fs::read_to_string(root.join("etc/crictl.yaml"))
        .ok()
        .and_then(|text| crate::engine::edit::parse_yaml(&text).ok())
        .and_then(|v| {
            v.get("runtime-endpoint")
                .and_then(|e| e.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| format!("unix://{}", super::files::CONTAINERD_SOCKET))
}

fn runtime_version(root: &Path, endpoint: &str) -> Result<crate::cri::RuntimeVersion, String> {
    let socket = crate::cri::socket_path(endpoint).map_err(|e| e.to_string())?;
    let host = root.join(socket.to_string_lossy().trim_start_matches('/'));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime
        .block_on(crate::cri::version(&host, endpoint))
        .map_err(|e| e.to_string())
}

fn tail(path: &Path, n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let skip = lines.len().saturating_sub(n);
    lines[skip..].to_vec()
}

fn wait(done: impl Fn() -> bool) -> Result<(), ()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while std::time::Instant::now() < deadline {
        if done() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(())
}
