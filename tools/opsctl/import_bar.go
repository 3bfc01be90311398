package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/devplatform/account-migration/shared/importer"
)

// importBar is the import's progress on stderr: records done of the total,
// the rate and the time left, redrawn in place; only when stderr is a
// terminal (logs and pipes get the summary alone).
type importBar struct {
	mu    sync.Mutex
	w     io.Writer
	on    bool
	phase importer.Phase
	began time.Time
	shown time.Time
	drawn bool
	last  string
}

func newImportBar(w io.Writer) *importBar {
	f, ok := w.(*os.File)
	return &importBar{w: w, on: ok && term.IsTerminal(int(f.Fd()))}
}

func (b *importBar) update(p importer.Phase, done, total int64) {
	if !b.on {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if p != b.phase {
		b.phase, b.began = p, now
		if b.drawn {
			fmt.Fprintln(b.w) // keep the finished phase's line
			b.drawn = false
		}
	}
	if now.Sub(b.shown) < 200*time.Millisecond && done != total {
		return
	}
	b.shown = now
	elapsed := now.Sub(b.began).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed
	}
	line := fmt.Sprintf("%-5s %d records", p, done)
	if total > 0 {
		const width = 30
		filled := int(float64(width) * float64(done) / float64(total))
		eta := "--"
		if rate > 0 {
			eta = (time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second).String()
		}
		line = fmt.Sprintf("%-5s [%s%s] %d/%d records  %.0f/s  ETA %s", p, strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total, rate, eta)
	}
	fmt.Fprintf(b.w, "\r%-100s", line)
	b.drawn, b.last = true, line
}

// clear takes the bar off its line so a message can be printed.
func (b *importBar) clear() {
	if !b.on {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprintf(b.w, "\r%-100s\r", "")
		b.drawn = false
	}
}

func (b *importBar) finish() {
	if !b.on {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}
