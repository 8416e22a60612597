package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sseload/sseload/internal/suggest"
	"github.com/sseload/sseload/loadgen"
	"github.com/sseload/sseload/loadgen/httpstream"
	"github.com/sseload/sseload/reports"
	"github.com/sseload/sseload/runner"
	"github.com/sseload/sseload/scenarios"
	"github.com/sseload/sseload/targets"
)

const completionUsage = `Usage: sseload completion bash|zsh|fish

Prints a shell completion script: sseload's commands, each command's flags,
the embedded scenario names (and .yaml files) for run's and capacity's
SCENARIO, the built-in target names for --only and --target, and the values
of --topology, --mode, --reconnect, --engine, --timestamp-unit, --kinds and --metric.

  bash  this shell:   source <(sseload completion bash)
        every shell:  sseload completion bash > ~/.local/share/bash-completion/completions/sseload
  zsh   this shell:   source <(sseload completion zsh)     (after compinit)
        every shell:  sseload completion zsh > "${fpath[1]}/_sseload"
  fish  this shell:   sseload completion fish | source
        every shell:  sseload completion fish > ~/.config/fish/completions/sseload.fish
`

// shells are the shells `sseload completion` writes scripts for.
func shells() []string { return []string{"bash", "zsh", "fish"} }

// completionCmd is `sseload completion SHELL`.
func completionCmd(args []string, stdout, _ io.Writer) (int, error) {
	fs := pflag.NewFlagSet("completion", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() { showHelp(stdout, fs, completionUsage) }
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			return exitOK, nil
		}
		return exitUsage, usageError{err}
	}
	if fs.NArg() != 1 {
		return exitUsage, usagef("completion takes one shell: %s", strings.Join(shells(), ", "))
	}
	cmds := completionModel()
	switch sh := fs.Arg(0); sh {
	case "bash":
		writeBash(stdout, cmds)
	case "zsh":
		writeZsh(stdout, cmds)
	case "fish":
		writeFish(stdout, cmds)
	default:
		if s := suggest.Closest(sh, shells()); s != "" {
			return exitUsage, usagef("completion: unknown shell %q: did you mean %q? (valid: %s)", sh, s, strings.Join(shells(), ", "))
		}
		return exitUsage, usagef("completion: unknown shell %q (valid: %s)", sh, strings.Join(shells(), ", "))
	}
	return exitOK, nil
}

// compCmd is what a completion script knows of one command.
type compCmd struct {
	name, summary string
	flags         []compFlag
	operands      []operand
}

// compFlag is one flag of a command, as its FlagSet declares it.
type compFlag struct {
	name, short string
	usage       string   // the first clause of the flag's usage
	value       bool     // takes a value
	many        bool     // may be given more than once
	list        bool     // takes a comma-separated list
	words       []string // the values it takes, when they are a fixed set
	files       fileKind
}

// completionModel reads every visible command's flags from the FlagSet it
// parses (flagsOf), so a script never offers a flag the command refuses.
func completionModel() []compCmd {
	var out []compCmd
	for _, c := range visibleCommands() {
		cc := compCmd{name: c.name, summary: c.summary, operands: c.operands}
		if fs := flagsOf(c); fs != nil {
			fs.VisitAll(func(f *pflag.Flag) {
				if f.Hidden || f.Deprecated != "" {
					return
				}
				typ := f.Value.Type()
				cf := compFlag{
					name: f.Name, short: f.Shorthand, usage: firstClause(f.Usage),
					value: f.NoOptDefVal == "",
					many:  strings.HasSuffix(typ, "Array") || strings.HasSuffix(typ, "Slice"),
					list:  strings.HasSuffix(typ, "Slice"),
				}
				cf.words, cf.files = flagValues(f.Name)
				cc.flags = append(cc.flags, cf)
			})
		}
		cc.flags = append(cc.flags, compFlag{name: "help", short: "h", usage: "show this command's help"})
		out = append(out, cc)
	}
	return out
}

// flagValues are the values that complete a flag, by its name (a name
// means the same in every command).
func flagValues(name string) ([]string, fileKind) {
	switch name {
	case "only", "target":
		return targets.PresetNames(), noFiles
	case "topology":
		return []string{runner.TopologyLocal, runner.TopologyCompose, runner.TopologySwarm, runner.TopologyNone}, noFiles
	case "method":
		return httpstream.Methods(), noFiles
	case "body-file":
		return nil, anyFile
	case "mode":
		return []string{scenarios.ModeBroadcast, scenarios.ModePerConnection}, noFiles
	case "reconnect":
		return []string{string(loadgen.ReconnectNever), string(loadgen.ReconnectSpec), string(loadgen.ReconnectPersistent)}, noFiles
	case "engine":
		out := make([]string, len(loadgen.Engines))
		for i, n := range loadgen.Engines {
			out[i] = string(n)
		}
		return out, noFiles
	case "timestamp-unit":
		return []string{"auto", "ns", "us", "ms", "s"}, noFiles
	case "kinds":
		return targets.Kinds(), noFiles
	case "metric":
		return reports.ThresholdMetrics(), noFiles
	case "out":
		return nil, dirs
	case "nginx", "haproxy", "caddy":
		return nil, anyFile
	}
	return nil, noFiles
}

// firstClause shortens a flag's usage for a completion menu: without its
// parenthesised asides, up to the first semicolon or sentence end, at most
// 90 bytes.
func firstClause(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	s = strings.Join(strings.Fields(b.String()), " ")
	s = strings.NewReplacer(" ,", ",", " :", ":", " ;", ";").Replace(s)
	if i := strings.Index(s, "; "); i > 0 {
		s = s[:i]
	}
	for i := 0; i+2 < len(s); i++ { // the first sentence
		if s[i] == '.' && s[i+1] == ' ' && s[i+2] >= 'A' && s[i+2] <= 'Z' {
			s = s[:i]
			break
		}
	}
	if len(s) > 90 {
		i := strings.LastIndexByte(s[:90], ' ')
		s = strings.TrimRight(s[:i], ",:") + "…"
	}
	return s
}

// --- bash ---

const bashHeader = `# bash completion for sseload                              -*- shell-script -*-
# Generated by 'sseload completion bash'. This shell:
#   source <(sseload completion bash)
# every shell:
#   sseload completion bash > ~/.local/share/bash-completion/completions/sseload

# __sseload_operands AT VALUE_FLAGS: how many words between the command (word
# AT) and the cursor are neither flags nor flag values. Bash splits words at
# '=' and ':' (COMP_WORDBREAKS): the word after one continues the one before.
__sseload_operands() {
	local i w n=0 skip=0
	for ((i = $1 + 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if ((skip)); then
			[[ $w == [=:] ]] || skip=0
			continue
		fi
		case $w in
		[=:]) skip=1 ;;
		-*) [[ " $2 " == *" $w "* ]] && skip=1 ;;
		*) n=$((n + 1)) ;;
		esac
	done
	echo "$n"
}

# __sseload_words WORD...: complete the current word from the words.
__sseload_words() {
	local IFS=$'\n'
	COMPREPLY+=($(compgen -W "$*" -- "$cur"))
}

# __sseload_list WORD...: complete the last item of a comma-separated list.
__sseload_list() {
	local IFS=$'\n' pre=
	[[ $cur == *,* ]] && pre=${cur%,*},
	COMPREPLY+=($(compgen -P "$pre" -W "$*" -- "${cur##*,}"))
}

# __sseload_files any|dirs|yaml: complete a path.
__sseload_files() {
	local IFS=$'\n'
	compopt -o filenames 2>/dev/null
	case $1 in
	dirs) COMPREPLY+=($(compgen -d -- "$cur")) ;;
	yaml) COMPREPLY+=($(compgen -d -- "$cur") $(compgen -f -X '!*.y*ml' -- "$cur")) ;;
	*) COMPREPLY+=($(compgen -f -- "$cur")) ;;
	esac
}

_sseload() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	# bash splits --flag=value at '=' (COMP_WORDBREAKS).
	if [[ $cur == = ]]; then
		cur=
	elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	fi
	local i cmd= at=0
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*)
			cmd=${COMP_WORDS[i]} at=$i
			break
			;;
		esac
	done
	case $cmd in
	"")
		if [[ $cur == -* ]]; then
			__sseload_words --help -h --version
		else
			__sseload_words @COMMANDS@
		fi
		;;
`

func writeBash(w io.Writer, cmds []compCmd) {
	var names []string
	for _, c := range cmds {
		names = append(names, c.name)
	}
	fmt.Fprint(w, strings.Replace(bashHeader, "@COMMANDS@", strings.Join(names, " "), 1))
	for _, c := range cmds {
		fmt.Fprintf(w, "\t%s)\n", c.name)
		var valueFlags, allFlags, free []string
		var cases strings.Builder
		for _, f := range c.flags {
			spell := flagSpellings(f)
			allFlags = append(allFlags, spell...)
			if !f.value {
				continue
			}
			valueFlags = append(valueFlags, spell...)
			var action string
			switch {
			case f.list && len(f.words) > 0:
				action = "__sseload_list " + strings.Join(f.words, " ")
			case len(f.words) > 0:
				action = "__sseload_words " + strings.Join(f.words, " ")
			case f.files == dirs:
				action = "__sseload_files dirs"
			case f.files == anyFile:
				action = "__sseload_files any"
			default:
				free = append(free, spell...) // a value of the user's own: nothing to offer
				continue
			}
			fmt.Fprintf(&cases, "\t\t%s) %s; return ;;\n", strings.Join(spell, "|"), action)
		}
		if len(free) > 0 {
			fmt.Fprintf(&cases, "\t\t%s) return ;;\n", strings.Join(free, "|"))
		}
		if cases.Len() > 0 {
			fmt.Fprintf(w, "\t\tcase $prev in\n%s\t\tesac\n", cases.String())
		}
		fmt.Fprintf(w, "\t\tif [[ $cur == -* ]]; then\n\t\t\t__sseload_words %s\n\t\t\treturn\n\t\tfi\n", strings.Join(allFlags, " "))
		if len(c.operands) > 0 {
			fmt.Fprintf(w, "\t\tcase $(__sseload_operands \"$at\" %q) in\n", strings.Join(valueFlags, " "))
			for i, op := range c.operands {
				fmt.Fprintf(w, "\t\t%d)\n", i)
				if op.words != nil {
					fmt.Fprintf(w, "\t\t\t__sseload_words %s\n", strings.Join(op.words(), " "))
				}
				switch op.files {
				case dirs:
					fmt.Fprint(w, "\t\t\t__sseload_files dirs\n")
				case yamlFiles:
					fmt.Fprint(w, "\t\t\t__sseload_files yaml\n")
				case anyFile:
					fmt.Fprint(w, "\t\t\t__sseload_files any\n")
				}
				fmt.Fprint(w, "\t\t\t;;\n")
			}
			fmt.Fprint(w, "\t\tesac\n")
		}
		fmt.Fprint(w, "\t\t;;\n")
	}
	fmt.Fprint(w, "\tesac\n}\n\ncomplete -F _sseload sseload\n")
}

// flagSpellings are the ways to write f on the command line.
func flagSpellings(f compFlag) []string {
	s := []string{"--" + f.name}
	if f.short != "" {
		s = append(s, "-"+f.short)
	}
	return s
}

// --- zsh ---

const zshHeader = `#compdef sseload
# zsh completion for sseload. Generated by 'sseload completion zsh'. This shell
# (after compinit):
#   source <(sseload completion zsh)
# every shell: put it in a directory of $fpath as _sseload, e.g.
#   sseload completion zsh > "${fpath[1]}/_sseload"

_sseload() {
	local curcontext=$curcontext state line
	local -a commands
	commands=(
@COMMANDS@	)
	_arguments -C \
		'(- :)'{-h,--help}'[show help]' \
		'(- :)--version[print the version]' \
		'1:command:->command' \
		'*::argument:->argument'
	case $state in
	command)
		_describe -t commands 'sseload command' commands
		;;
	argument)
		curcontext=${curcontext%%:*}-$words[1]:
		case $words[1] in
`

const zshFooter = `		esac
		;;
	esac
}

if [[ $funcstack[1] == _sseload ]]; then
	_sseload "$@"
else
	compdef _sseload sseload
fi
`

func writeZsh(w io.Writer, cmds []compCmd) {
	var list strings.Builder
	for _, c := range cmds {
		fmt.Fprintf(&list, "\t\t%s\n", zshQuote(c.name+":"+strings.ReplaceAll(c.summary, ":", `\:`)))
	}
	fmt.Fprint(w, strings.Replace(zshHeader, "@COMMANDS@", list.String(), 1))
	for _, c := range cmds {
		fmt.Fprintf(w, "\t\t%s)\n\t\t\t_arguments -s -S", c.name)
		for _, f := range c.flags {
			fmt.Fprintf(w, " \\\n\t\t\t\t%s", zshFlagSpec(f))
		}
		for i, op := range c.operands {
			fmt.Fprintf(w, " \\\n\t\t\t\t%s", zshQuote(fmt.Sprintf("%d:%s:%s", i+1, op.what, zshAction(wordsOf(op), op.files, false))))
		}
		fmt.Fprint(w, "\n\t\t\t;;\n")
	}
	fmt.Fprint(w, zshFooter)
}

func wordsOf(op operand) []string {
	if op.words == nil {
		return nil
	}
	return op.words()
}

// zshFlagSpec is f as an _arguments spec, such as
// '(-c --connections)'{-c+,--connections=}'[concurrent streams per target]:value: '.
func zshFlagSpec(f compFlag) string {
	desc := "[" + zshEscapeDesc(f.usage) + "]"
	var arg string
	if f.value {
		arg = ":" + f.name + ":" + zshAction(f.words, f.files, f.list)
	}
	rep := ""
	if f.many {
		rep = "*"
	}
	long, short := "--"+f.name, "-"+f.short
	if f.value {
		long, short = long+"=", short+"+"
	}
	if f.short == "" {
		return zshQuote(rep + long + desc + arg)
	}
	excl := ""
	if !f.many {
		excl = "(-" + f.short + " --" + f.name + ")"
	}
	return zshQuote(excl+rep) + "{" + short + "," + long + "}" + zshQuote(desc+arg)
}

// zshAction completes a value: fixed words, a comma-separated list of them,
// paths, or nothing (a value of the user's own).
func zshAction(words []string, files fileKind, list bool) string {
	var alts []string
	if len(words) > 0 {
		if list {
			return "_sequence compadd - " + strings.Join(words, " ")
		}
		alts = append(alts, "("+strings.Join(words, " ")+")")
	}
	switch files {
	case dirs:
		alts = append(alts, "_files -/")
	case anyFile:
		alts = append(alts, "_files")
	case yamlFiles:
		alts = append(alts, `_files -g '*.(yaml|yml)'`)
	}
	switch len(alts) {
	case 0:
		return " "
	case 1:
		return alts[0]
	}
	// Both fixed words and paths: offer each as its own group.
	return `{_alternative "names:name:` + alts[0] + `" "files:file:` + alts[1] + `"}`
}

func zshEscapeDesc(s string) string {
	return strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`).Replace(s)
}

// zshQuote single-quotes s for zsh.
func zshQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// --- fish ---

const fishHeader = `# fish completion for sseload. Generated by 'sseload completion fish'.
# This shell:   sseload completion fish | source
# every shell:  sseload completion fish > ~/.config/fish/completions/sseload.fish

# __sseload_command: the command typed so far (the first word after sseload
# that is not a flag); status 1 before one is typed.
function __sseload_command
	for w in (commandline -opc)[2..-1]
		switch $w
			case '-*'
			case '*'
				echo $w
				return 0
		end
	end
	return 1
end

# __sseload_using COMMAND: whether COMMAND is the command typed.
function __sseload_using
	set -l c (__sseload_command)
	test "$c" = "$argv[1]"
end

# __sseload_operands VALUE_FLAG...: the words after the command that are
# neither flags nor flag values, one a line.
function __sseload_operands
	set -l words (commandline -opc)[2..-1]
	while set -q words[1]
		set -l w $words[1]
		set -e words[1]
		switch $w
			case '-*'
			case '*'
				break # the command
		end
	end
	set -l skip 0
	for w in $words
		if test $skip -eq 1
			set skip 0
			continue
		end
		switch $w
			case '--*=*'
			case '-*'
				contains -- $w $argv; and set skip 1
			case '*'
				echo $w
		end
	end
end

complete -c sseload -f
complete -c sseload -n 'not __sseload_command' -s h -l help -d 'show help'
complete -c sseload -n 'not __sseload_command' -l version -d 'print the version'
`

func writeFish(w io.Writer, cmds []compCmd) {
	fmt.Fprint(w, fishHeader)
	for _, c := range cmds {
		fmt.Fprintf(w, "complete -c sseload -n 'not __sseload_command' -a %s -d %s\n", c.name, fishQuote(c.summary))
	}
	for _, c := range cmds {
		fmt.Fprintf(w, "\n# sseload %s\n", c.name)
		using := "__sseload_using " + c.name
		var valueFlags []string
		for _, f := range c.flags {
			line := fmt.Sprintf("complete -c sseload -n %s", fishQuote(using))
			if f.short != "" {
				line += " -s " + f.short
			}
			line += " -l " + f.name
			if f.value {
				valueFlags = append(valueFlags, flagSpellings(f)...)
				switch {
				case len(f.words) > 0:
					line += " -x -a " + fishQuote(strings.Join(f.words, " "))
				case f.files == dirs:
					line += " -x -a '(__fish_complete_directories (commandline -ct))'"
				case f.files == anyFile:
					line += " -r -F"
				default:
					line += " -x"
				}
			}
			fmt.Fprintf(w, "%s -d %s\n", line, fishQuote(f.usage))
		}
		for i, op := range c.operands {
			cond := fmt.Sprintf("%s; and test (count (__sseload_operands %s)) -eq %d", using, strings.Join(valueFlags, " "), i)
			if op.words != nil {
				fmt.Fprintf(w, "complete -c sseload -n %s -a %s -d %s\n", fishQuote(cond), fishQuote(strings.Join(op.words(), " ")), fishQuote(op.what))
			}
			switch op.files {
			case dirs:
				fmt.Fprintf(w, "complete -c sseload -n %s -a '(__fish_complete_directories (commandline -ct))'\n", fishQuote(cond))
			case yamlFiles:
				fmt.Fprintf(w, "complete -c sseload -n %s -a '(__fish_complete_suffix .yaml)'\n", fishQuote(cond))
			case anyFile:
				fmt.Fprintf(w, "complete -c sseload -n %s -F\n", fishQuote(cond))
			}
		}
	}
}

// fishQuote single-quotes s for fish.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
