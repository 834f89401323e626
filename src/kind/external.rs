//! Runs an external program (docker, podman, kind) from an argv, never a shell string, and
//! reports a failure with the exact command line and what the program printed.

use std::io::Write as _;
use std::process::{Command, Stdio};

/// A program that could not run, or ran and failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExternalError {
    /// The program is not on PATH.
    #[error("`{program}` is not installed (or not on PATH)\nhint: {install}")]
    Missing {
        program: String,
        install: &'static str,
    },
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
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(bytes)
            .map_err(|e| failed("could not write its input".into(), e.to_string()))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| failed("could not wait for it".into(), e.to_string()))?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let printed = format!("{}{}", stdout.trim_end(), stderr.trim_end());
        Err(failed(
            output.status.to_string(),
            printed.trim().to_string(),
        ))
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

    #[test]
    fn a_missing_program_says_how_to_install_it() {
        let err = run(&["kind-not-here-ckalab".to_string()], None).expect_err("missing");
        assert!(matches!(err, ExternalError::Missing { .. }));
    }
}
