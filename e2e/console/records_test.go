package console

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/shared/migration"
)

// records: the developer's record of what moved. The demo account (both
// batches moved by the walk) finds both in the history with where each went,
// is pointed there instead of "no migration needed", and downloads each
// batch's receipt as CSV and as JSON; a waiting batch shows its time left.
func records(t *testing.T, b *browser) {
	dir := t.TempDir()
	b.run(cdpbrowser.SetDownloadBehavior(cdpbrowser.SetDownloadBehaviorBehaviorAllow).WithDownloadPath(dir).WithEventsEnabled(true))
	// Each part stands alone (a failure stops only that part) and leaves the
	// page in English at desktop width.
	part := func(name string, f func(t *testing.T)) {
		b.part(t, name, func(t *testing.T) {
			defer func() {
				b.run(emulation.SetDeviceMetricsOverride(1100, 900, 1, false))
				b.eval(`localStorage.setItem('console.lang', 'en'); true`, nil)
			}()
			f(t)
		})
	}
	b.signInAs("ma-1001")
	part("history-lists-both-batches", func(t *testing.T) { historyListsBoth(t, b) })
	part("receipts-download", func(t *testing.T) { receiptsDownload(t, b, dir) })
	part("history-and-receipt-in-chinese-and-on-a-phone", func(t *testing.T) { recordsShots(t, b) })
	part("done-offers-the-receipt", func(t *testing.T) {
		b.open("/?screen=overview")
		b.screen("overview")
		b.click(`li[data-batch] button[data-action="VIEW_TARGET"]`)
		b.screen("done")
		b.has("#receipt #download-csv", "the done screen offers the receipt")
		b.has("#receipt #download-json")
	})
	part("moved-everything-points-to-the-history", func(t *testing.T) {
		b.open("/?screen=assets")
		b.waitFor(`main[aria-busy="false"]:not([data-screen="loading"])`)
		require.NotContains(t, b.text("main"), "needs no migration", "an account that moved everything is not told it needs no migration")
		b.screen("moved")
		b.check("moved")
		b.shot("35-everything-moved")
		b.click("#to-history")
		b.screen("history")
	})
	part("waiting-batch-time-left", func(t *testing.T) { timeLeft(t, b) })
	part("history-pages-with-more", func(t *testing.T) { historyPages(t, b) })
}

// historyPages: the quota account (the walk's refusal ended its first
// migration) starts again; its history, one migration a page, lists the
// new one first and the refused one under "more", with what failed.
func historyPages(t *testing.T, b *browser) {
	b.signInAs("ma-8008")
	b.screen("overview")
	b.has("#again", "a migration with a failed batch offers to start again")
	b.click("#again")
	b.screen("plan")
	b.click("#start")
	b.screen("overview")
	b.open("/?pageSize=1&screen=history")
	b.screen("history")
	var states []string
	b.eval(`[...document.querySelectorAll('li[data-migration]')].map(li => li.dataset.state)`, &states)
	require.Equal(t, []string{"IN_PROGRESS"}, states, "the newest first, one a page")
	b.click("#more")
	b.waitFor(`li[data-migration]:nth-child(2)`)
	b.eval(`[...document.querySelectorAll('li[data-migration]')].map(li => li.dataset.state)`, &states)
	require.Equal(t, []string{"IN_PROGRESS", "COMPLETED"}, states, "the next page under the first")
	require.Contains(t, b.text(`li[data-migration]:nth-child(2) li[data-batch]`), "quota", "what failed, in words")
	var inSecond bool
	b.eval(`!!document.activeElement.closest('li[data-migration]:nth-child(2)')`, &inSecond)
	require.True(t, inSecond, "the focus moves to what was added")
}

// historyListsBoth: the navigation leads to the history, which lists the
// demo account's migration with both batches, what became of each and where
// it moved.
func historyListsBoth(t *testing.T, b *browser) {
	b.open("/")
	b.screen("overview")
	b.has("#nav-history", "the navigation leads to the history")
	b.click("#nav-history")
	b.screen("history")
	require.Contains(t, b.address(), "screen=history")
	var batches []struct{ State, Text string }
	b.eval(`[...document.querySelectorAll('li[data-batch]')].map(li => ({State: li.dataset.state, Text: li.textContent}))`, &batches)
	require.Len(t, batches, 2, "both batches of the demo account's migration")
	var texts []string
	for _, x := range batches {
		require.Equal(t, "COMMITTED", x.State)
		require.Contains(t, x.Text, "Douyin Open Platform (new)", "where it moved: the platform")
		texts = append(texts, x.Text)
	}
	require.Contains(t, strings.Join(texts, "\n"), "dev-alice-1", "where it moved: the account")
	require.Contains(t, b.text("li[data-migration]"), "completed")
	b.check("history")
	b.shot("28-history")
}

// receiptsDownload: each moved batch's receipt, viewed, then downloaded as
// CSV (the server's file: a header row and one row per item) and as JSON
// (every page in one file, its hash the CSV's x-receipt-sha256 and the hash
// of its items).
func receiptsDownload(t *testing.T, b *browser, dir string) {
	b.open("/?pageSize=2&screen=history") // the receipts come in pages of two: the JSON joins them
	b.screen("history")
	var ids []string
	b.eval(`[...document.querySelectorAll('li[data-batch] [data-action="RECEIPT"]')].map(x => x.closest('li[data-batch]').dataset.batchId)`, &ids)
	require.Len(t, ids, 2, "a receipt for each moved batch")
	for i, bid := range ids {
		b.click(`li[data-batch-id="` + bid + `"] [data-action="RECEIPT"]`)
		b.screen("receipt")
		require.Contains(t, b.address(), "batch="+bid)
		receipt := b.text("#receipt")
		require.Contains(t, receipt, "ma-1001", "from")
		require.Contains(t, receipt, "Douyin Open Platform (new)", "to")
		require.Contains(t, receipt, "2026-11-01", "the agreement's version")
		require.Contains(t, receipt, "English", "the agreement's language")
		var total int
		b.eval(`+document.getElementById('receipt-total').dataset.total`, &total)
		require.Positive(t, total)
		if i == 0 {
			b.check("receipt")
			b.shot("29-receipt")
		}
		b.click("#download-csv")
		rows := readCSV(t, waitFile(t, filepath.Join(dir, "receipt-"+bid+".csv")))
		require.Equal(t, []string{"type", "id", "assetId", "kind", "name", "role"}, rows[0], "a header row")
		require.Len(t, rows[1:], total, "one row per item the receipt counts")
		sha := b.receiptHeader(bid)
		require.Len(t, sha, 64, "the CSV's x-receipt-sha256")
		require.Contains(t, receipt, sha, "the receipt's full hash is shown")

		b.click("#download-json")
		var j struct {
			BatchID    string                  `json:"batchId"`
			SHA256     string                  `json:"sha256"`
			Total      int                     `json:"total"`
			Items      []migration.ReceiptItem `json:"items"`
			NextCursor *string                 `json:"nextCursor"`
		}
		require.NoError(t, json.Unmarshal(waitFile(t, filepath.Join(dir, "receipt-"+bid+".json")), &j))
		require.Equal(t, bid, j.BatchID)
		require.Equal(t, sha, j.SHA256, "the JSON's hash is the CSV's")
		require.Len(t, j.Items, total, "every page in one file")
		require.Greater(t, total, 2, "more than one page of two")
		require.Nil(t, j.NextCursor)
		require.Equal(t, sha, migration.ReceiptSHA256(j.Items), "the items in the file are the ones the hash covers")
		b.eval(`history.back(); true`, nil)
		b.screen("history")
	}
}

// recordsShots: the history and a receipt in Chinese, and at 375 px.
func recordsShots(t *testing.T, b *browser) {
	b.open("/?screen=history")
	b.screen("history")
	b.click("#lang")
	b.screen("history")
	require.Equal(t, "迁移记录", b.text("h1"))
	require.Empty(t, halfWidth.FindAllString(b.text("main"), -1), "half-width punctuation in the Chinese history")
	b.check("history-zh")
	b.shot("30-history-zh")
	b.run(emulation.SetDeviceMetricsOverride(375, 812, 2, true))
	b.shot("31-phone-history-zh")
	b.click(`li[data-batch] [data-action="RECEIPT"]`)
	b.screen("receipt")
	b.check("receipt-zh")
	require.Empty(t, halfWidth.FindAllString(b.text("main"), -1), "half-width punctuation in the Chinese receipt")
	b.shot("32-phone-receipt-zh")
	b.click("#lang")
	b.screen("receipt")
	b.shot("33-phone-receipt")
}

// halfWidth finds half-width punctuation next to Chinese text.
var halfWidth = regexp.MustCompile(`\p{Han}[,:;()!?]|[,:;()!?]\p{Han}`)

// timeLeft: a waiting batch shows the time left before it expires, in words,
// and the deadline's date, on the overview and on the batch's screens, in
// both languages.
func timeLeft(t *testing.T, b *browser) {
	b.signInAs("ma-9109")
	b.startMigration()
	var left []string
	b.eval(`[...document.querySelectorAll('li[data-batch] .left')].map(p => p.textContent)`, &left)
	require.Len(t, left, 1, "the waiting batch shows its time left")
	require.Regexp(t, regexp.MustCompile(`^(29|30) days left`), left[0])
	require.Regexp(t, regexp.MustCompile(`20\d\d`), left[0], "and the deadline's date")
	b.check("overview-time-left")
	b.shot("34-overview-time-left")
	b.click(`li[data-batch] button[data-action="ACCEPT_AGREEMENT"]`)
	b.screen("agreement")
	b.has("#time-left", "the batch's screens show the time left")
	require.Regexp(t, regexp.MustCompile(`^(29|30) days left`), b.text("#time-left"))
	b.click("#lang")
	b.screen("agreement")
	require.Regexp(t, regexp.MustCompile(`^剩余 (29|30) 天，请在 20\d\d`), b.text("#time-left"))
	b.check("agreement-time-left-zh")
	b.shot("36-agreement-time-left-zh")
}

// waitFile waits (bounded) for a download to land and returns its content.
func waitFile(t *testing.T, path string) []byte {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return b
		}
		if time.Now().After(deadline) {
			names, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*"))
			t.Fatalf("no download %s (the folder holds %v)", filepath.Base(path), names)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, rows)
	return rows
}

// receiptHeader is the x-receipt-sha256 of the CSV receipt the page fetched for a batch.
func (b *browser) receiptHeader(bid string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.receiptSHA[bid]
}
