package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/devplatform/account-migration/shared/importer"
)

// importBar is the import's progress on stderr: records done of the total,
// the rate and the time left, drawn on the status line (term.go), so only
// when stderr is a terminal (logs and pipes get the summary alone).
type importBar struct {
	mu    sync.Mutex
	line  *statusLine
	phase importer.Phase
	began time.Time
	shown time.Time
}

func newImportBar(w io.Writer) *importBar {
	return &importBar{line: newStatusLine(w)}
}

func (b *importBar) update(p importer.Phase, done, total int64) {
	if !b.line.on {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if p != b.phase {
		b.phase, b.began = p, now
		b.line.finish() // keep the finished phase's line
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
	text := fmt.Sprintf("%-5s %d records", p, done)
	if total > 0 {
		const width = 30
		filled := int(float64(width) * float64(done) / float64(total))
		eta := "--"
		if rate > 0 {
			eta = (time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second).String()
		}
		text = fmt.Sprintf("%-5s [%s%s] %d/%d records  %.0f/s  ETA %s", p, strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total, rate, eta)
	}
	b.line.draw(text)
}

// clear takes the bar off its line so a message can be printed.
func (b *importBar) clear() { b.line.clear() }

func (b *importBar) finish() { b.line.finish() }
