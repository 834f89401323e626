//! Runs an external program (docker, podman, kind) from an argv, never a shell string, and
//! reports a failure with the exact command line and what the program printed.

use std::io::{Read, Write as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A program that could not run, or ran and failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExternalError {
    /// The program is not on PATH.
    #[error("`{program}` is not installed (or not on PATH)\nhint: {install}")]
    Missing {
        program: String,
        install: &'static str,
    },
    /// The program did not finish in time and was stopped.
    #[error("`{command_line}` did not finish within {seconds} s and was stopped")]
    TimedOut { command_line: String, seconds: u64 },
    /// The program ran and exited non-zero, or could not be started.
    #[error("`{command_line}` failed ({status}):\n{output}")]
    Failed {
        command_line: String,
        status: String,
        output: String,
    },
}

/// How to install a program the kind backend drives (doctor's words; docker's by default).
pub fn install_hint(program: &str) -> &'static str {
    crate::doctor::install_command(program)
        .or_else(|| crate::doctor::install_command("docker"))
        .unwrap_or("install it, then run `ckalab doctor`")
}

/// The command line as a learner would type it, for messages.
pub fn command_line(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"$`\\".contains(c)) {
                format!("'{}'", a.replace('\'', r"'\''"))
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `argv` (feeding `stdin` when given) and returns its standard output as text.
pub fn run(argv: &[String], stdin: Option<&[u8]>) -> Result<String, ExternalError> {
    run_bytes(argv, stdin).map(|out| String::from_utf8_lossy(&out).into_owned())
}

/// Runs `argv` and returns its standard output as it is: a file read out of a node may be
/// binary and must come back byte for byte.
pub fn run_bytes(argv: &[String], stdin: Option<&[u8]>) -> Result<Vec<u8>, ExternalError> {
    run_within(argv, stdin, None)
}

/// Runs `argv` and stops it when it has not finished within `timeout` (a hung container must
/// not hang ckalab). Standard input is written while the output is read, so neither side
/// waits on a full pipe whatever the sizes.
pub fn run_within(
    argv: &[String],
    stdin: Option<&[u8]>,
    timeout: Option<Duration>,
) -> Result<Vec<u8>, ExternalError> {
    let (program, args) = argv.split_first().ok_or_else(|| ExternalError::Failed {
        command_line: String::new(),
        status: "empty command".into(),
        output: String::new(),
    })?;
    let failed = |status: String, output: String| ExternalError::Failed {
        command_line: command_line(argv),
        status,
        output,
    };
    let mut child = Command::new(program)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ExternalError::Missing {
                program: program.clone(),
                install: install_hint(program),
            },
            _ => failed("could not start".into(), e.to_string()),
        })?;
    let writer = match (stdin, child.stdin.take()) {
        (Some(bytes), Some(mut pipe)) => {
            let bytes = bytes.to_vec();
            // Dropping the pipe at the end closes the program's input.
            Some(std::thread::spawn(move || pipe.write_all(&bytes)))
        }
        _ => None,
    };
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = timeout.map(|t| Instant::now() + t);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if deadline.is_some_and(|d| Instant::now() >= d) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ExternalError::TimedOut {
                    command_line: command_line(argv),
                    seconds: timeout.map_or(0, |t| t.as_secs()),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(failed("could not wait for it".into(), e.to_string())),
        }
    };
    let written = writer.map(|w| w.join());
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    if !status.success() {
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&stdout).trim_end(),
            String::from_utf8_lossy(&stderr).trim_end()
        );
        return Err(failed(status.to_string(), printed.trim().to_string()));
    }
    match written {
        Some(Ok(Err(e))) => Err(failed("could not write its input".into(), e.to_string())),
        _ => Ok(stdout),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_quote_what_a_shell_would_split() {
        let argv = ["docker", "exec", "c", "sh", "-c", "cat > \"$1\""].map(String::from);
        assert_eq!(command_line(&argv), r#"docker exec c sh -c 'cat > "$1"'"#);
    }

    #[test]
    fn a_failure_names_the_command_and_its_output() {
        let argv = ["sh", "-c", "echo boom >&2; exit 3"].map(String::from);
        let err = run(&argv, None).expect_err("fails").to_string();
        assert!(
            err.contains("`sh -c 'echo boom >&2; exit 3'` failed"),
            "{err}"
        );
        assert!(err.contains("boom"), "{err}");
    }

    #[test]
    fn binary_output_comes_back_byte_for_byte() {
        let argv = ["printf", r"\377\000\201"].map(String::from);
        assert_eq!(run_bytes(&argv, None).ok(), Some(vec![0xff, 0x00, 0x81]));
    }

    /// A program that reads all its input before writing (as `tee` into a pipe does not, and
    /// `cat` does) must not deadlock on a file larger than a pipe's buffer.
    #[test]
    fn a_large_input_and_output_do_not_deadlock() {
        let input = vec![b'x'; 1024 * 1024];
        let argv = ["tee", "/dev/null"].map(String::from);
        let out = run_within(&argv, Some(&input), Some(Duration::from_secs(20))).expect("tee");
        assert_eq!(out.len(), input.len());
    }

    #[test]
    fn a_hung_program_is_stopped_at_its_timeout() {
        let argv = ["sleep", "30"].map(String::from);
        let err = run_within(&argv, None, Some(Duration::from_millis(200))).expect_err("hangs");
        assert!(matches!(err, ExternalError::TimedOut { .. }), "{err}");
        assert!(
            err.to_string().contains("`sleep 30` did not finish"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_program_says_how_to_install_it() {
        let err = run(&["kind-not-here-ckalab".to_string()], None).expect_err("missing");
        assert!(matches!(err, ExternalError::Missing { .. }));
    }
}
