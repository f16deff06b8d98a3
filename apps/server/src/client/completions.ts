/** `elizabeth completions bash|zsh|fish`: static completion scripts for every command and option. */
const COMMANDS: Record<string, string[]> = {
  serve: ['--config-file', '--port', '--listen-addr', '--jwt-secret', '--db-url', '--verbose'],
  config: ['--config-file', '--port', '--listen-addr', '--jwt-secret', '--db-url', '--verbose'],
  migrate: ['--config-file', '--db-url', '--status', '--to', '--verbose'],
  gc: ['--config-file', '--db-url', '--verbose'],
  push: [
    '--server',
    '--password',
    '--lang',
    '--name',
    '--again',
    '--parallel',
    '--chunk-size',
    '--json',
    '--no-progress',
  ],
  pull: ['--server', '--password', '--lang', '--out', '--all', '--zip', '--force', '--json', '--no-progress'],
  ls: ['--server', '--password', '--lang', '--json'],
  send: ['--server', '--password', '--lang', '--link', '--json'],
  tail: ['--server', '--password', '--lang', '--follow', '--lines', '--json'],
  open: ['--server', '--password', '--lang'],
  share: [
    '--server',
    '--password',
    '--lang',
    '--edit-only',
    '--edit',
    '--expires',
    '--max-uses',
    '--link-password',
    '--json',
  ],
  completions: [],
  help: [],
};
const FILE_ARGS = ['push'];

function bash(): string {
  const cases = Object.entries(COMMANDS)
    .map(([cmd, opts]) => `    ${cmd}) opts="${opts.join(' ')} --help" ;;`)
    .join('\n');
  return `# elizabeth completion for bash: eval "$(elizabeth completions bash)"
_elizabeth() {
  local cur cmd opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${Object.keys(COMMANDS).join(' ')} --help --version" -- "$cur") )
    return
  fi
  case "$cmd" in
${cases}
    *) opts="" ;;
  esac
  if [ "$cmd" = completions ]; then
    COMPREPLY=( $(compgen -W "bash zsh fish" -- "$cur") ); return
  fi
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  elif [[ " ${FILE_ARGS.join(' ')} pull " == *" $cmd "* ]]; then
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
complete -o default -F _elizabeth elizabeth
`;
}

function zsh(): string {
  const cases = Object.entries(COMMANDS)
    .map(([cmd, opts]) => `    ${cmd}) _arguments '*:file:_files' ${opts.map((o) => `'${o}'`).join(' ')} ;;`)
    .join('\n');
  return `#compdef elizabeth
# elizabeth completion for zsh: elizabeth completions zsh > "\${fpath[1]}/_elizabeth"
_elizabeth() {
  if (( CURRENT == 2 )); then
    compadd -- ${Object.keys(COMMANDS).join(' ')}
    return
  fi
  case "$words[2]" in
    completions) compadd -- bash zsh fish ;;
${cases}
  esac
}
compdef _elizabeth elizabeth
`;
}

function fish(): string {
  const lines = [
    '# elizabeth completion for fish: elizabeth completions fish > ~/.config/fish/completions/elizabeth.fish',
    'complete -c elizabeth -f',
    `complete -c elizabeth -n __fish_use_subcommand -a '${Object.keys(COMMANDS).join(' ')}'`,
    "complete -c elizabeth -n '__fish_seen_subcommand_from completions' -a 'bash zsh fish'",
  ];
  for (const [cmd, opts] of Object.entries(COMMANDS)) {
    for (const opt of opts)
      lines.push(`complete -c elizabeth -n '__fish_seen_subcommand_from ${cmd}' -l ${opt.slice(2)}`);
  }
  lines.push("complete -c elizabeth -n '__fish_seen_subcommand_from push' -F");
  return `${lines.join('\n')}\n`;
}

export function completionScript(shell: string): string | undefined {
  if (shell === 'bash') return bash();
  if (shell === 'zsh') return zsh();
  if (shell === 'fish') return fish();
  return undefined;
}
