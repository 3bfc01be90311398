package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress reports a bulk run. Its output on stdout is one line per settled
// account: plain text, or with --output json the account's result as a JSON
// line (the results file's line). On a terminal stderr a bar is redrawn in
// place beside it; when stdout is that terminal too, the bar stands in for
// the text lines and only failures are printed, above it. Nothing is drawn
// off a terminal (CI logs, files, pipes, /dev/null).
type progress struct {
	mu       sync.Mutex
	lines    io.Writer // nil: no per-account lines
	asJSON   bool
	bar      *statusLine
	total    int
	inFlight int
	settledN int
	waiting  int
	failed   int
	began    time.Time
	stop     chan struct{}
	stopped  sync.WaitGroup
}

// newProgress writes a plain line per settled account to w, and nothing else.
func newProgress(w io.Writer, total int) *progress {
	return &progress{lines: w, bar: &statusLine{}, total: total, began: time.Now(), stop: make(chan struct{})}
}

// newBulkProgress is bulk-start's progress: its lines on stdout, its bar on
// stderr when stderr is a terminal.
func newBulkProgress(stdout, stderr io.Writer, total int, asJSON bool) *progress {
	p := newProgress(stdout, total)
	p.asJSON, p.bar = asJSON, newStatusLine(stderr)
	if p.bar.on && !asJSON && isTerminal(stdout) {
		p.lines = nil
	}
	if p.bar.on {
		p.stopped.Add(1)
		go func() { // keep the clock moving while nothing settles
			defer p.stopped.Done()
			t := time.NewTicker(500 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-p.stop:
					return
				case <-t.C:
					p.mu.Lock()
					p.draw()
					p.mu.Unlock()
				}
			}
		}()
	}
	return p
}

func (p *progress) started() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inFlight++
	p.draw()
}

func (p *progress) settled(r result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inFlight--
	p.settledN++
	if r.failed() {
		p.failed++
	} else if r.State == "IN_PROGRESS" {
		p.waiting++
	}
	switch {
	case p.lines == nil:
		if r.failed() { // a failure stays on screen above the bar
			p.bar.println(r.account().ref() + "  " + firstLine(r.Error))
		}
	case p.asJSON:
		p.bar.clear()
		_ = writeJSONLine(p.lines, r)
	default:
		p.bar.clear()
		width := len(fmt.Sprint(p.total))
		line := fmt.Sprintf("[%*d/%d] %-40s %-20s %s", width, p.settledN, p.total, r.account().ref(), stateLabel(r), r.MigrationID)
		if r.Error != "" {
			line += "  " + firstLine(r.Error)
		}
		fmt.Fprintln(p.lines, strings.TrimRight(line, " "))
	}
	p.draw()
}

func (p *progress) draw() {
	if !p.bar.on {
		return
	}
	const width = 30
	filled := 0
	if p.total > 0 {
		filled = p.settledN * width / p.total
	}
	bar := strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
	p.bar.draw(fmt.Sprintf("%s %d/%d settled  %d waiting on developer  %d failed  %d in flight  %s",
		bar, p.settledN, p.total, p.waiting, p.failed, p.inFlight, time.Since(p.began).Round(time.Second)))
}

func (p *progress) finish() {
	close(p.stop)
	p.stopped.Wait()
	p.mu.Lock()
	p.draw()
	p.bar.finish()
	p.mu.Unlock()
}

func stateLabel(r result) string {
	switch {
	case r.State != "":
		return r.State
	case r.Error != "":
		return "ERROR"
	}
	return "?"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
