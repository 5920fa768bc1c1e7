//! `tfeco completions SHELL`: the shell completion script of the whole command tree (`clap_complete`), on
//! stdout. Install it, e.g. `tfeco completions bash > ~/.local/share/bash-completion/completions/tfeco`,
//! `tfeco completions zsh > "${fpath[1]}/_tfeco"`, `tfeco completions fish > ~/.config/fish/completions/tfeco.fish`.

use std::process::ExitCode;

use clap_complete::Shell;

/// `tfeco completions SHELL`.
#[derive(clap::Args, Debug)]
pub(crate) struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell or elvish.
    shell: Shell,
}

/// Writes the completion script of `tree` (the `tfeco` command) for the chosen shell to stdout.
pub(crate) fn run(args: CompletionsArgs, mut tree: clap::Command) -> anyhow::Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut tree, "tfeco", &mut script);
    std::io::Write::write_all(&mut std::io::stdout().lock(), &script)?;
    Ok(ExitCode::SUCCESS)
}
