// Command gofmt-render renders a Go format string the way fmt.Sprintf does, for eks-userdata's
// template tests (issue #14): it reads the format from the file named by its first argument and
// passes the remaining arguments to fmt.Sprintf as strings, printing the result to stdout.
// Verbs that want another type render as %!d(string=…), which the test reads back; too few or
// too many arguments render as %!s(MISSING) and %!(EXTRA …), which the test fails on.
// Standard library only.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gofmt-render FORMAT-FILE [ARG]...")
		os.Exit(2)
	}
	format, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	args := make([]any, 0, len(os.Args)-2)
	for _, a := range os.Args[2:] {
		args = append(args, a)
	}
	os.Stdout.WriteString(fmt.Sprintf(string(format), args...))
}
