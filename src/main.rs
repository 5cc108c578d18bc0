//! The `bulletin` command. All the work is in the library; this maps its
//! outcome to an exit code: 0 all done, 1 some recipients failed or problems
//! were found, 2 nothing could be done, 130 interrupted by Ctrl-C (resumable).

use std::process::ExitCode;

fn main() -> ExitCode {
    sigpipe::reset();
    let cli = bulletin::cli::parse();
    match bulletin::run(cli) {
        Ok(outcome) => outcome.exit_code(),
        Err(error) => {
            for line in bulletin::report::error_message(&error).lines() {
                eprintln!("error: {}", bulletin::report::printable(line));
            }
            if let Some(hint) = bulletin::hint(&error) {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(2)
        }
    }
}
