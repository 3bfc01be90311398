package main

import (
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal (golang.org/x/term). Progress
// is drawn only there: logs, files, pipes and /dev/null get none of it.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// statusLine is one line of progress redrawn in place with \r on a terminal
// (the command's stderr), so that stdout carries only the command's output.
// Off a terminal it is off and every method does nothing. Messages printed
// to the same terminal while it is drawn go through println, which takes
// the line away, prints, and lets the next draw put it back.
type statusLine struct {
	mu    sync.Mutex
	w     io.Writer
	on    bool
	drawn bool
}

// newStatusLine is a status line on w, on only when w is a terminal.
func newStatusLine(w io.Writer) *statusLine {
	return &statusLine{w: w, on: isTerminal(w)}
}

// draw replaces the line with s.
func (l *statusLine) draw(s string) {
	if !l.on {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "\r\033[K%s", s)
	l.drawn = true
}

// println prints a message of its own line above the status line.
func (l *statusLine) println(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.on && l.drawn {
		fmt.Fprint(l.w, "\r\033[K")
		l.drawn = false
	}
	fmt.Fprintln(l.w, s)
}

// clear takes the line away (the next draw puts it back).
func (l *statusLine) clear() {
	if !l.on {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.drawn {
		fmt.Fprint(l.w, "\r\033[K")
		l.drawn = false
	}
}

// finish leaves the last drawn line on screen and ends it.
func (l *statusLine) finish() {
	if !l.on {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.drawn {
		fmt.Fprintln(l.w)
		l.drawn = false
	}
}
