package migration

import "unicode/utf8"

// EchoLimit is how much of a caller's own input an error message repeats.
const EchoLimit = 64

// Echo is s as an error message may repeat it: at most EchoLimit bytes of
// whole UTF-8 characters, marked when cut, so a megabyte of input is not
// sent back (nor logged) whole.
func Echo(s string) string {
	if len(s) <= EchoLimit {
		return s
	}
	cut := EchoLimit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
