use std::process::ExitCode;

fn main() -> ExitCode {
    ckalab::run(std::env::args_os())
}
