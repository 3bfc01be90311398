// Package console drives the developer console (GET /) in a real headless
// Chromium against the whole local stack: the page, the API behind it, the
// state machine. It needs Debian's chromium and the npm package axe-core
// (.ci/run installs both); without them it fails, it never skips.
package console

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/demo"
	"github.com/devplatform/account-migration/local/stack"
	"github.com/devplatform/account-migration/local/stacktest"
)

const projectDir = "../.."

// chromiumPath finds the browser: CHROME_PATH, else Debian's chromium.
func chromiumPath(t *testing.T) string {
	if p := os.Getenv("CHROME_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium: install it (apt-get install -y chromium; .ci/run does) or set CHROME_PATH")
	return ""
}

// axeSource reads axe-core: AXE_CORE_JS, else npm's global install.
func axeSource(t *testing.T) string {
	paths := []string{os.Getenv("AXE_CORE_JS")}
	if out, err := exec.Command("npm", "root", "-g").Output(); err == nil {
		paths = append(paths, filepath.Join(strings.TrimSpace(string(out)), "axe-core", "axe.min.js"))
	}
	paths = append(paths, "/usr/lib/node_modules/axe-core/axe.min.js", "/usr/local/lib/node_modules/axe-core/axe.min.js")
	for _, p := range paths {
		if p == "" {
			continue
		}
		if b, err := os.ReadFile(p); err == nil {
			return string(b)
		}
	}
	t.Fatal("no axe-core: npm install -g axe-core@4.11.0 (.ci/run does) or set AXE_CORE_JS")
	return ""
}

// snapshot is the demo snapshot plus two accounts: one whose batch exceeds
// its subject's mini-program quota (6 > 5 for a person) and one with nothing
// to migrate.
func snapshot(t *testing.T) []byte {
	var snap map[string]any
	require.NoError(t, json.Unmarshal(demo.Snapshot, &snap))
	push := func(key string, v map[string]any) { snap[key] = append(snap[key].([]any), v) }
	push("subjects", map[string]any{"id": "subj-quota", "name": "Quinn Qiao", "kind": "person", "certified": true})
	push("accounts", map[string]any{"platform": "microapp", "id": "ma-8008", "login": "quinn@example.com", "subjectId": "subj-quota"})
	push("accounts", map[string]any{"platform": "microapp", "id": "ma-7007", "login": "nina@example.com"})
	for i := 1; i <= 6; i++ {
		push("apps", map[string]any{"id": fmt.Sprintf("app-quota-%d", i), "platform": "microapp", "kind": "miniprogram",
			"name": fmt.Sprintf("Quinn Game %d", i), "creatorAccountId": "ma-8008", "subjectId": "subj-quota", "certified": true})
	}
	// One account per check of the list (ma-9101 ... ma-9108, and
	// ma-9109 for the records' waiting batch): a
	// company with a certified mini-program that has a collaborator (bob), a
	// data set and an order, and an onboarded account on developer for the
	// same login. ma-9105 has a second subject: two batches open at once.
	for i := 1; i <= 9; i++ {
		acct, subj, app := fmt.Sprintf("ma-910%d", i), fmt.Sprintf("subj-item%d", i), fmt.Sprintf("app-item%d", i)
		login := fmt.Sprintf("item%d@example.com", i)
		push("subjects", map[string]any{"id": subj, "name": fmt.Sprintf("Studio %d Co., Ltd.", i), "kind": "company", "certified": true})
		push("accounts", map[string]any{"platform": "microapp", "id": acct, "login": login, "subjectId": subj})
		push("apps", map[string]any{"id": app, "platform": "microapp", "kind": "miniprogram", "name": fmt.Sprintf("Puzzle %d", i),
			"creatorAccountId": acct, "subjectId": subj, "certified": true})
		push("members", map[string]any{"assetId": app, "accountId": "ma-2002", "role": "collaborator"})
		push("data", map[string]any{"id": "ds-" + app, "assetId": app, "kind": "analytics"})
		push("orders", map[string]any{"id": "ord-" + app, "assetId": app, "amountCents": 990, "currency": "CNY", "status": "paid"})
		push("targetAccounts", map[string]any{"platform": "developer", "id": fmt.Sprintf("dev-item%d", i), "login": login, "onboarding": "completed"})
	}
	push("subjects", map[string]any{"id": "subj-item5b", "name": "Side Project Co., Ltd.", "kind": "company", "certified": true})
	push("apps", map[string]any{"id": "app-item5b", "platform": "microapp", "kind": "miniprogram", "name": "Side Quiz",
		"creatorAccountId": "ma-9105", "subjectId": "subj-item5b", "certified": true})
	b, err := json.Marshal(snap)
	require.NoError(t, err)
	return b
}

func startStack(t *testing.T) *stack.Stack {
	t.Helper()
	return stacktest.Start(t, stack.Options{ProjectDir: projectDir, Seed: snapshot(t)})
}

// shotDir is where screenshots go: docs/console with UPDATE_SCREENSHOTS=1,
// else a temporary directory (taken all the same, so a broken screen fails).
func shotDir(t *testing.T) string {
	if os.Getenv("UPDATE_SCREENSHOTS") != "" {
		d := filepath.Join(projectDir, "docs", "console")
		require.NoError(t, os.MkdirAll(d, 0o755))
		return d
	}
	return t.TempDir()
}

// browser is one headless Chromium tab on the console.
type browser struct {
	t      *testing.T
	ctx    context.Context
	base   string
	axe    string
	shots  string
	errs   chan string
	axeLog []string
	mu     sync.Mutex
	writes []string // "METHOD path key" of every POST/PUT to the API
	// receiptSHA is the x-receipt-sha256 of each CSV receipt the page fetched, by batch id.
	receiptSHA map[string]string
}

func newBrowser(t *testing.T, base, lang string, width, height int64) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // CI containers run as root
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", lang),
		chromedp.WindowSize(int(width), int(height)),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 6*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	b := &browser{t: t, ctx: ctx, base: base, axe: axeSource(t), errs: make(chan string, 16), receiptSHA: map[string]string{}}
	chromedp.ListenTarget(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			select {
			case b.errs <- e.ExceptionDetails.Error():
			default:
			}
		case *network.EventRequestWillBeSent:
			if (e.Request.Method == "POST" || e.Request.Method == "PUT") && strings.Contains(e.Request.URL, "/v1/") {
				key, _ := e.Request.Headers["Idempotency-Key"].(string)
				b.mu.Lock()
				b.writes = append(b.writes, e.Request.Method+" "+e.Request.URL+" "+key)
				b.mu.Unlock()
			}
		case *network.EventResponseReceived:
			if m := receiptURL.FindStringSubmatch(e.Response.URL); m != nil {
				for k, v := range e.Response.Headers {
					if strings.EqualFold(k, "x-receipt-sha256") {
						b.mu.Lock()
						b.receiptSHA[m[1]], _ = v.(string)
						b.mu.Unlock()
					}
				}
			}
		}
	})
	b.run(network.Enable(), emulation.SetUserAgentOverride("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome console-test").WithAcceptLanguage(lang),
		emulation.SetDeviceMetricsOverride(width, height, 1, width < 500))
	return b
}

var receiptURL = regexp.MustCompile(`/batches/([^/?]+)/receipt\?(?:.*&)?format=csv`)

func (b *browser) run(actions ...chromedp.Action) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Run(b.ctx, actions...))
	b.noErrors()
}

func (b *browser) noErrors() {
	b.t.Helper()
	select {
	case e := <-b.errs:
		b.t.Fatalf("the page threw: %s", e)
	default:
	}
}

// screen waits (bounded) until the console shows a screen and is not busy.
func (b *browser) screen(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 45*time.Second)
	defer cancel()
	sel := fmt.Sprintf(`main[data-screen=%q][aria-busy="false"]`, name)
	if err := chromedp.Run(ctx, chromedp.WaitVisible(sel, chromedp.ByQuery)); err != nil {
		var now, text string
		_ = chromedp.Run(b.ctx, chromedp.AttributeValue("main", "data-screen", &now, nil, chromedp.ByQuery), chromedp.Text("main", &text, chromedp.ByQuery))
		b.t.Fatalf("screen %q never showed (showing %q): %v\n%s", name, now, err, text)
	}
	b.noErrors()
}

// part runs f as a subtest of t on this browser: a failure stops only f.
func (b *browser) part(t *testing.T, name string, f func(t *testing.T)) {
	t.Run(name, func(t *testing.T) {
		prev := b.t
		b.t = t
		defer func() { b.t = prev }()
		f(t)
	})
}

// waitFor waits (bounded) until sel is visible.
func (b *browser) waitFor(sel string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 45*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, chromedp.WaitVisible(sel, chromedp.ByQuery)); err != nil {
		var text string
		_ = chromedp.Run(b.ctx, chromedp.Text("main", &text, chromedp.ByQuery))
		b.t.Fatalf("%s never showed: %v; the page shows:\n%s", sel, err, text)
	}
	b.noErrors()
}

func (b *browser) click(sel string) {
	b.t.Helper()
	b.run(chromedp.Click(sel, chromedp.ByQuery, chromedp.NodeVisible))
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	var s string
	b.run(chromedp.Text(sel, &s, chromedp.ByQuery, chromedp.NodeVisible))
	return s
}

func (b *browser) eval(js string, out any) {
	b.t.Helper()
	b.run(chromedp.Evaluate(js, out))
}

// check runs axe-core on the screen: no violation at all.
func (b *browser) check(name string) {
	b.t.Helper()
	var loaded bool
	b.eval(`typeof axe !== 'undefined'`, &loaded)
	if !loaded {
		b.run(chromedp.Evaluate(b.axe, nil))
	}
	var res struct {
		Violations []struct {
			ID     string `json:"id"`
			Impact string `json:"impact"`
			Help   string `json:"help"`
			Nodes  []struct {
				Target []any `json:"target"`
			} `json:"nodes"`
		} `json:"violations"`
		Passes int `json:"passes"`
	}
	b.run(chromedp.Evaluate(`axe.run(document, {resultTypes: ['violations']}).then(r => ({violations: r.violations, passes: r.passes.length}))`, &res,
		func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	var bad, minor []string
	for _, v := range res.Violations {
		line := fmt.Sprintf("%s (%s): %s %v", v.ID, v.Impact, v.Help, v.Nodes)
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, line)
		} else {
			minor = append(minor, line)
		}
	}
	b.axeLog = append(b.axeLog, fmt.Sprintf("axe %-14s serious/critical: %d, minor/moderate: %d %v", name, len(bad), len(minor), minor))
	b.t.Log(b.axeLog[len(b.axeLog)-1])
	require.Empty(b.t, bad, "axe-core on screen %s", name)
	require.Empty(b.t, minor, "axe-core on screen %s: no violation of any impact", name)
}

// shot saves a full-page PNG of the screen and checks the page does not
// scroll sideways at this width.
func (b *browser) shot(name string) {
	b.t.Helper()
	var over bool
	b.eval(`document.documentElement.scrollWidth > document.documentElement.clientWidth`, &over)
	require.False(b.t, over, "screen %s scrolls sideways", name)
	var png []byte
	b.run(chromedp.FullScreenshot(&png, 100))
	require.NoError(b.t, os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644))
}

// key presses one key on the focused element (keyboard-only runs).
func (b *browser) key(k string) {
	b.t.Helper()
	b.run(chromedp.KeyEvent(k))
}

// tabTo presses Tab until sel has the focus, as a keyboard user would, and
// checks the focus is visible there.
func (b *browser) tabTo(sel string) {
	b.t.Helper()
	for i := 0; i < 80; i++ {
		var at bool
		b.eval(fmt.Sprintf(`document.activeElement && document.activeElement.matches(%q)`, sel), &at)
		if at {
			var outline string
			b.eval(`getComputedStyle(document.activeElement).outlineStyle`, &outline)
			require.NotEqual(b.t, "none", outline, "focus on %s is not visible", sel)
			return
		}
		b.key("\t")
	}
	b.t.Fatalf("Tab never reached %s", sel)
}

// Keys for chromedp.KeyEvent.
const (
	keyEnter = "\r"
	keySpace = " "
)

func (b *browser) open(path string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.base + path))
}

// idempotencyKeys checks every POST and PUT the page sent to the API carried
// an Idempotency-Key, a fresh one per action (the test retries nothing).
func (b *browser) idempotencyKeys() int {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	seen := map[string]string{}
	for _, w := range b.writes {
		f := strings.Fields(w)
		require.Len(b.t, f, 3, "%s was sent without an Idempotency-Key", w)
		if prev, dup := seen[f[2]]; dup {
			b.t.Fatalf("one Idempotency-Key for two actions: %s and %s", prev, w)
		}
		seen[f[2]] = w
	}
	return len(b.writes)
}

// has checks, within a few seconds, that sel is on the page (a quick check,
// not the long wait of screen: a control that is missing fails fast).
func (b *browser) has(sel string, why ...any) {
	b.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var ok bool
		b.eval(fmt.Sprintf(`!!document.querySelector(%q)`, sel), &ok)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var text string
			_ = chromedp.Run(b.ctx, chromedp.Text("main", &text, chromedp.ByQuery))
			require.Fail(b.t, "missing "+sel+": "+fmt.Sprint(why...)+"; the page shows:\n"+text)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// inView reports whether sel is wholly inside the window.
func (b *browser) inView(sel string) bool {
	b.t.Helper()
	var in bool
	b.eval(fmt.Sprintf(`(r => !!r && r.top >= 0 && r.bottom <= innerHeight && r.height > 0)(document.querySelector(%q) && document.querySelector(%q).getBoundingClientRect())`, sel, sel), &in)
	return in
}

// address is the page's query string: each screen has its own.
func (b *browser) address() string {
	var s string
	b.eval(`location.search`, &s)
	return s
}

// signInAs signs in with the development sign-in as a snapshot account,
// starting from a tab with no session.
func (b *browser) signInAs(account string) {
	b.t.Helper()
	b.open("/")
	b.eval(`sessionStorage.clear(); true`, nil)
	b.open("/")
	b.screen("signin")
	b.click(fmt.Sprintf(`button[data-account=%q]`, "microapp:"+account))
	// An account with a migration resumes at its overview.
	b.waitFor(`main[aria-busy="false"][data-screen="assets"], main[aria-busy="false"][data-screen="overview"]`)
}

// startMigration goes from the account's assets through the plan to a started migration.
func (b *browser) startMigration() {
	b.t.Helper()
	b.click(`main .actions button`) // See the migration list
	b.screen("plan")
	b.click(`main .actions button`) // Start migration
	b.screen("overview")
}

// scrollAgreement scrolls the agreement's text to its end, as a reader does.
func (b *browser) scrollAgreement() {
	b.t.Helper()
	b.eval(`(e => { e.scrollTop = e.scrollHeight; e.dispatchEvent(new Event('scroll')); return true })(document.getElementById('agreement-text'))`, nil)
}

// acceptAgreement accepts the agreement of the overview's first batch waiting for it.
func (b *browser) acceptAgreement() {
	b.t.Helper()
	b.click(`li[data-batch] button[data-action="ACCEPT_AGREEMENT"]`)
	b.screen("agreement")
	b.scrollAgreement()
	b.click("#agree")
	b.click("#accept")
	b.screen("review")
}

// chooseTarget picks a target on the target screen ("" for a new account) and submits it.
func (b *browser) chooseTarget(value string) {
	b.t.Helper()
	b.click(fmt.Sprintf(`input[name=target][value=%q]`, value))
	b.click(`form button[type=submit]`)
	b.screen("confirm")
}

// commitAndWait confirms on the confirmation screen and waits until the batch has moved.
func (b *browser) commitAndWait() {
	b.t.Helper()
	b.click("#understand")
	b.click("#commit")
	b.screen("progress")
	waitDone(b.t, b)
}

// acceptAgreementByKeyboard is acceptAgreement and the review after it with
// the keyboard alone: from the overview to the target screen, the
// agreement's text scrolled to its end with End.
func (b *browser) acceptAgreementByKeyboard() {
	b.t.Helper()
	b.tabTo(`button[data-action="ACCEPT_AGREEMENT"]`)
	b.key(keyEnter)
	b.screen("agreement")
	b.tabTo("#agreement-text") // the text scrolls with the keyboard
	b.key(kb.End)
	b.waitFor("#agree:enabled") // once the text has scrolled to its end
	b.tabTo("#agree")
	b.key(keySpace)
	b.tabTo("#accept")
	b.key(keyEnter)
	b.screen("review")
	b.tabTo(`main .actions button:not(.secondary)`)
	b.key(keyEnter)
	b.screen("target")
}

// confirmNewTargetByKeyboard picks a new account on the target screen and
// commits on the confirmation screen, with the keyboard alone; what the
// commit leads to is the caller's to check.
func (b *browser) confirmNewTargetByKeyboard() {
	b.t.Helper()
	b.tabTo("#target-new")
	b.key(keySpace)
	b.tabTo(`form button[type=submit]`)
	b.key(keyEnter)
	b.screen("confirm")
	b.tabTo("#understand")
	b.key(keySpace)
	b.tabTo("#commit")
	b.key(keyEnter)
}

// migrate takes a fresh account's one batch from the sign-in to moved, to
// target ("" for a new account).
func (b *browser) migrate(account, target string) {
	b.t.Helper()
	b.signInAs(account)
	b.startMigration()
	b.acceptAgreement()
	b.click(`main .actions button:not(.secondary)`) // to the target
	b.screen("target")
	b.chooseTarget(target)
	b.commitAndWait()
}
