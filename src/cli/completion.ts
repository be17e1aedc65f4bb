import type { Command, Option } from 'commander';

/**
 * Shell completion written from the command tree itself, so it never disagrees with the
 * flags: every command's sub-commands, its flags, and the values of flags that have a fixed
 * set (`--via`). Contexts come from `kubectl config get-contexts` when kubectl is there.
 *
 * One bash function serves both shells; zsh runs it through its `bashcompinit`. Words are
 * read with `${COMP_WORDS[@]:$i:1}`, which counts from 0 in both shells, and no variable is
 * named like one zsh keeps for itself (`path`, `words`).
 */

import type { Shell } from './completion-shells.js';

interface Node {
  /** Sub-commands' path from the top, space-separated ('' for the program itself). */
  path: string;
  /** Words that may come next: sub-commands or an argument's choices. */
  words: string[];
  flags: string[];
  /** Flags that take a value, with the values to offer (none: any text). */
  values: Map<string, string[]>;
}

function flagNames(option: Option): string[] {
  return [option.long, option.short].filter((n): n is string => n !== undefined);
}

function nodes(command: Command, path = ''): Node[] {
  const values = new Map<string, string[]>();
  for (const option of command.options) {
    if (!option.required && !option.optional) continue;
    for (const name of flagNames(option)) values.set(name, option.argChoices ?? []);
  }
  const argument = command.registeredArguments[0];
  const node: Node = {
    path,
    words: [...command.commands.map((c) => c.name()), ...(argument?.argChoices ?? [])],
    flags: [...command.options.flatMap(flagNames), '--help', '-h'],
    values,
  };
  return [
    node,
    ...command.commands.flatMap((c) => nodes(c, path === '' ? c.name() : `${path} ${c.name()}`)),
  ];
}

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

function bashFunction(program: Command): string {
  const all = nodes(program);
  const commandPaths = all.filter((n) => n.path !== '').map((n) => n.path);
  const valueCases = all.flatMap((n) =>
    [...n.values].map(([flag, choices]) => {
      const key = quote(`${n.path}|${flag}`);
      if (flag === '--context')
        return `    ${key}) offer=$(kubectl config get-contexts -o name 2>/dev/null) ;;`;
      return `    ${key}) offer=${quote(choices.join(' '))} ;;`;
    }),
  );
  const flagCases = all.map((n) => `    ${quote(n.path)}) offer=${quote(n.flags.join(' '))} ;;`);
  const wordCases = all
    .filter((n) => n.words.length > 0)
    .map((n) => `    ${quote(n.path)}) offer=${quote(n.words.join(' '))} ;;`);
  const name = program.name();
  return [
    `_replica_demo() {`,
    `  local cur prev cmdpath='' word i offer=''`,
    `  cur=\${COMP_WORDS[@]:$COMP_CWORD:1}`,
    `  prev=\${COMP_WORDS[@]:$((COMP_CWORD - 1)):1}`,
    `  # The command path: the words that name a command, under the one before.`,
    `  for ((i = 1; i < COMP_CWORD; i++)); do`,
    `    word=\${COMP_WORDS[@]:$i:1}`,
    `    case "\${cmdpath:+$cmdpath }$word" in`,
    `      ${commandPaths.map(quote).join('|')}) cmdpath=\${cmdpath:+$cmdpath }$word ;;`,
    `    esac`,
    `  done`,
    `  COMPREPLY=()`,
    `  case "$cmdpath|$prev" in`,
    ...valueCases,
    `    *) prev='' ;;`,
    `  esac`,
    `  if [[ -z $prev ]]; then`,
    `    if [[ $cur == -* ]]; then`,
    `      case "$cmdpath" in`,
    ...flagCases.map((c) => `  ${c}`),
    `      esac`,
    `    else`,
    `      case "$cmdpath" in`,
    ...wordCases.map((c) => `  ${c}`),
    `      esac`,
    `    fi`,
    `  fi`,
    `  [[ -n $offer ]] && COMPREPLY=($(compgen -W "$offer" -- "$cur"))`,
    `  return 0`,
    `}`,
    `complete -F _replica_demo ${name}`,
  ].join('\n');
}

export function completionScript(shell: Shell, program: Command): string {
  const name = program.name();
  const body = bashFunction(program);
  if (shell === 'bash') {
    return [
      `# ${name} completion for bash. Load it with: source <(${name} completion bash)`,
      body,
    ].join('\n');
  }
  return [
    `# ${name} completion for zsh. Load it with: source <(${name} completion zsh)`,
    `(( $+functions[compdef] )) || { autoload -U +X compinit && compinit; }`,
    `autoload -U +X bashcompinit && bashcompinit`,
    body,
  ].join('\n');
}
