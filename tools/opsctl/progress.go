package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress reports a bulk run: on a terminal one bar redrawn in place (with
// \r, no terminal library needed), elsewhere (CI logs, files, pipes) one
// plain line per settled account.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	total    int
	inFlight int
	settledN int
	waiting  int
	failed   int
	began    time.Time
	stop     chan struct{}
	stopped  sync.WaitGroup
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, tty: isTerminal(w), total: total, began: time.Now(), stop: make(chan struct{})}
	if p.tty {
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

// isTerminal reports a character device (a terminal) without x/term.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) started() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inFlight++
	if p.tty {
		p.draw()
	}
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
	if p.tty {
		if r.failed() { // a failure stays on screen above the bar
			fmt.Fprintf(p.w, "\r\033[K%s  %s\n", r.account().ref(), firstLine(r.Error))
		}
		p.draw()
		return
	}
	width := len(fmt.Sprint(p.total))
	line := fmt.Sprintf("[%*d/%d] %-40s %-20s %s", width, p.settledN, p.total, r.account().ref(), stateLabel(r), r.MigrationID)
	if r.Error != "" {
		line += "  " + firstLine(r.Error)
	}
	fmt.Fprintln(p.w, strings.TrimRight(line, " "))
}

func (p *progress) draw() {
	const width = 30
	filled := 0
	if p.total > 0 {
		filled = p.settledN * width / p.total
	}
	bar := strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
	fmt.Fprintf(p.w, "\r\033[K%s %d/%d settled  %d waiting on developer  %d failed  %d in flight  %s",
		bar, p.settledN, p.total, p.waiting, p.failed, p.inFlight, time.Since(p.began).Round(time.Second))
}

func (p *progress) finish() {
	close(p.stop)
	p.stopped.Wait()
	if p.tty {
		p.mu.Lock()
		p.draw()
		fmt.Fprintln(p.w)
		p.mu.Unlock()
	}
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
