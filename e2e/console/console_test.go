package console

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/jwtlocal"
	"github.com/devplatform/account-migration/local/stack"
)

// TestConsole walks the demo account (two subjects) through the whole
// migration in the browser: one batch with the mouse to an existing account,
// the other with the keyboard alone to a new one; then the resume, the
// languages, a quota refusal, an expired token, an account with nothing to
// migrate and a phone's width. axe-core checks every screen. Then each thing
// a first-time developer tripped over is checked on an account of its own.
func TestConsole(t *testing.T) {
	s := startStack(t)
	shots := shotDir(t)
	b := newBrowser(t, s.APIURL, "en-US", 1100, 900)
	b.shots = shots
	// Each check runs as a subtest with its own account: one that fails
	// does not stop the others.
	check := func(name string, f func(t *testing.T)) { b.part(t, name, f) }
	check("walk", func(t *testing.T) { walk(t, b, s) })
	check("1-change-target-before-confirming", func(t *testing.T) { changeTarget(t, b) })
	check("2-progress-says-done", func(t *testing.T) { progressDone(t, b) })
	check("3-members-explained", func(t *testing.T) { membersExplained(t, b) })
	check("4-back-and-forward", func(t *testing.T) { backAndForward(t, b) })
	check("5-screens-name-the-batch", func(t *testing.T) { batchNamed(t, b) })
	check("6-agreement-in-chinese", func(t *testing.T) { agreementInChinese(t, b, s) })
	check("7-new-account-guidance", func(t *testing.T) { newAccountGuidance(t, b) })
	check("8-errors-in-view", func(t *testing.T) { errorsInView(t, b) })
	check("9-smaller-things", func(t *testing.T) { smallerThings(t, b) })
	check("records", func(t *testing.T) { records(t, b) })
	n := b.idempotencyKeys()
	require.GreaterOrEqual(t, n, 10, "start, 2x(agreement, target, commit) and the quota batch's")
	t.Logf("%d POST/PUT requests, each with its own Idempotency-Key", n)
	for _, l := range b.axeLog {
		t.Log(l)
	}
}

func walk(t *testing.T, b *browser, s *stack.Stack) {
	// Sign-in: the development sign-in lists the snapshot's accounts.
	b.open("/?pageSize=2")
	b.screen("signin")
	// The page's weight on the wire and its first screen, as the browser measured them.
	var perf struct {
		Transfer, Body, Decoded, FirstScreen float64
	}
	b.eval(`(n => ({Transfer: n.transferSize, Body: n.encodedBodySize, Decoded: n.decodedBodySize,
		FirstScreen: performance.getEntriesByName('console:first-screen')[0].startTime}))(performance.getEntriesByType('navigation')[0])`, &perf)
	t.Logf("page: %.0f bytes transferred (body %.0f gzipped, %.0f decoded); first screen %.0f ms after navigation start", perf.Transfer, perf.Body, perf.Decoded, perf.FirstScreen)
	require.Less(t, perf.Transfer, 100*1024.0, "the whole page stays under 100 KB transferred")
	require.Less(t, perf.Decoded, 100*1024.0, "and under 100 KB uncompressed")
	require.Less(t, perf.FirstScreen, 10000.0)
	require.Contains(t, b.text("h1"), "Sign in")
	b.check("signin")
	b.shot("01-signin")

	// What the account holds: the uncertified draft is skipped, by name, in words.
	b.click(`button[data-account="microapp:ma-1001"]`)
	b.screen("assets")
	require.Contains(t, b.text("#skipped"), "App Alice Draft: not certified; certify it first")
	b.check("assets")
	b.shot("02-assets")

	// The plan: one batch per subject.
	b.click(`main .actions button`)
	b.screen("plan")
	var batches int
	b.eval(`document.querySelectorAll('li[data-batch]').length`, &batches)
	require.Equal(t, 2, batches)
	require.Contains(t, b.text("main"), ": 2 batches.")
	b.check("plan")
	b.shot("03-plan")

	b.click(`main .actions button`) // Start migration
	b.screen("overview")
	b.check("overview")
	b.shot("04-overview")

	mouseBatch(t, b)
	keyboardBatch(t, b)

	// Both batches moved; the migration is complete.
	b.screen("overview")
	var states []string
	b.eval(`[...document.querySelectorAll('li[data-batch]')].map(li => li.dataset.state)`, &states)
	require.Equal(t, []string{"COMMITTED", "COMMITTED"}, states)
	require.Contains(t, b.text("main"), "Migration: completed")
	b.shot("12-overview-done")

	// Reopened, the console resumes where the account stands.
	b.open("/")
	b.screen("overview")

	// Switching language redraws the screen in Chinese, and back; the focus
	// stays on the switch.
	b.click("#lang")
	b.screen("overview")
	require.Equal(t, "迁移进度", b.text("h1"))
	var lang, focused string
	b.eval(`document.documentElement.lang`, &lang)
	require.Equal(t, "zh-CN", lang)
	b.eval(`document.activeElement.id`, &focused)
	require.Equal(t, "lang", focused, "switching language leaves the focus on the switch")
	b.check("overview-zh")
	b.shot("13-overview-zh")
	b.click(`li[data-batch] button[data-action="VIEW_TARGET"]`)
	b.screen("done")
	b.check("done-zh")
	b.shot("21-done-zh")
	b.click("#lang")
	b.screen("done")
	b.open("/")
	b.screen("overview")

	phone(t, b)
	quotaRefusal(t, b)
	expiredToken(t, b)
	noMigration(t, b)
	chineseBrowser(t, b)
}

// mouseBatch: agreement, review (paginated), an existing target, confirm.
func mouseBatch(t *testing.T, b *browser) {
	b.click(`li[data-batch] button[data-action="ACCEPT_AGREEMENT"]`)
	b.screen("agreement")
	require.Greater(t, len(b.text("#agreement-text")), 200, "the full text is shown")
	var disabled bool
	b.eval(`document.getElementById('accept').disabled`, &disabled)
	require.True(t, disabled, "accepting needs the box ticked")
	b.check("agreement")
	b.shot("05-agreement")
	b.scrollAgreement()
	b.click("#agree")
	b.click("#accept")

	b.screen("review")
	var kinds []string
	b.eval(`[...document.querySelectorAll('section[data-kind]')].map(s => s.dataset.kind)`, &kinds)
	require.Equal(t, []string{"account", "subject", "apps", "identity", "members", "data", "orders"}, kinds)
	b.check("review")
	b.shot("06-review")
	// pageSize=2: the review has a second page, reached with the cursor.
	b.click("#next-page")
	b.screen("review")
	require.Equal(t, "Page 2", b.text("#page"))
	b.click(`main .actions button:not(.secondary)`) // Continue: choose the target account

	b.screen("target")
	var existing []string
	b.eval(`[...document.querySelectorAll('input[name=target]')].map(i => i.value)`, &existing)
	require.Equal(t, []string{"dev-alice-1", ""}, existing, "the onboarded account, then a new one")
	b.check("target")
	b.shot("07-target")
	b.chooseTarget("dev-alice-1")

	require.Contains(t, b.text("#warning"), "cannot be undone")
	b.eval(`document.getElementById('commit').disabled`, &disabled)
	require.True(t, disabled, "confirming needs the box ticked")
	b.check("confirm")
	b.shot("08-confirm")
	b.commitAndWait()
	b.check("progress")
	b.shot("09-progress")
	b.click("#see-target")
	b.screen("done")
	require.Contains(t, b.text("#target-account"), "dev-alice-1")
	b.check("done")
	b.shot("10-done")
	b.click(`[data-to="overview"]`) // back to the overview
	b.screen("overview")
}

func waitDone(t *testing.T, b *browser) {
	deadline := time.Now().Add(90 * time.Second)
	for {
		var done bool
		b.eval(`document.querySelector('main').dataset.done === 'true'`, &done)
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the batch never finished moving; the page shows:\n%s", b.text("main"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	var bar []float64
	b.eval(`(p => [p.value, p.max])(document.getElementById('bar'))`, &bar)
	require.True(t, bar[0] == bar[1] && bar[1] >= 1, "the progress bar ends full: %v; %s", bar, b.text("#bar-label"))
}

// keyboardBatch: the second batch with the keyboard alone, to a new account.
func keyboardBatch(t *testing.T, b *browser) {
	b.acceptAgreementByKeyboard()
	var values []string
	b.eval(`[...document.querySelectorAll('input[name=target]')].map(i => i.value)`, &values)
	require.Equal(t, []string{""}, values, "dev-alice-1 now holds the other subject: only a new account")
	b.confirmNewTargetByKeyboard()
	b.screen("progress")
	waitDone(t, b)
	b.tabTo("#see-target")
	b.key(keyEnter)
	b.screen("done")
	require.NotContains(t, b.text("#target-account"), "dev-alice-1", "a new account")
	b.shot("11-done-new-account")
	b.tabTo(`[data-to="overview"]`)
	b.key(keyEnter)
}

// phone: at 375 px every screen fits without sideways scrolling (shot checks).
func phone(t *testing.T, b *browser) {
	b.run(emulation.SetDeviceMetricsOverride(375, 812, 2, true))
	defer b.run(emulation.SetDeviceMetricsOverride(1100, 900, 1, false))
	b.open("/")
	b.screen("overview")
	b.shot("14-phone-overview")
	b.click(`li[data-batch] button[data-action="VIEW_TARGET"]`)
	b.screen("done")
	b.shot("15-phone-done")
	b.click("#lang")
	b.screen("done")
	b.shot("23-phone-done-zh")
	b.click("#lang")
	b.screen("done")
	b.click("#signout")
	b.screen("signin")
	// E-mail addresses stay whole in the sign-in buttons.
	var broken []string
	b.eval(`[...document.querySelectorAll('button[data-account] .login')].filter(e => e.getClientRects().length !== 1).map(e => e.textContent)`, &broken)
	require.Empty(t, broken, "e-mail addresses broken across lines at 375 px")
	b.shot("16-phone-signin")
}

// quotaRefusal: a batch over its subject's quota is refused at the point of
// no return, and the page says so. Driven with the keyboard alone from the
// sign-in on, so every screen of the main path is proven keyboard-operable.
func quotaRefusal(t *testing.T, b *browser) {
	b.open("/")
	b.screen("signin")
	b.tabTo(`button[data-account="microapp:ma-8008"]`)
	b.key(keyEnter)
	b.screen("assets")
	b.tabTo(`main .actions button`)
	b.key(keyEnter)
	b.screen("plan")
	b.tabTo(`main .actions button`) // Start migration
	b.key(keyEnter)
	b.screen("overview")
	b.acceptAgreementByKeyboard()
	b.confirmNewTargetByKeyboard()
	b.waitFor(`main [data-code="QUOTA_EXCEEDED"]`)
	require.Contains(t, b.text(`main [data-code="QUOTA_EXCEEDED"]`), "quota")
	require.True(t, b.inView(`main [data-code="QUOTA_EXCEEDED"]`), "the refusal shows where the user is")
	b.check("quota-refused")
	b.shot("17-quota-refused")
	b.click(`main [data-code="QUOTA_EXCEEDED"] .actions button`)
	b.screen("overview")
	require.Contains(t, b.text(`li[data-batch]`), "failed")
	b.click("#signout")
	b.screen("signin")
}

// expiredToken: a pasted token that has expired is a message on the sign-in
// screen, next to the token field, not a blank page.
func expiredToken(t *testing.T, b *browser) {
	b.run(chromedp.SetValue("#token", expiredAlice(t), chromedp.ByQuery))
	b.click(`form button[type=submit]`)
	b.screen("signin")
	b.waitFor(`main [data-code="UNAUTHORIZED"]`)
	require.Contains(t, b.text(`main [data-code="UNAUTHORIZED"]`), "expired")
	b.check("expired-token")
	b.shot("18-expired-token")
}

func expiredAlice(t *testing.T) string {
	key, err := jwtlocal.LoadOrCreateKey(filepath.Join(projectDir, jwtlocal.DefaultKeyPath))
	require.NoError(t, err)
	old := &jwtlocal.Authority{Key: key, Issuer: jwtlocal.Issuer, Audience: "account-migration",
		Now: func() time.Time { return time.Now().Add(-2 * jwtlocal.TokenTTL) }}
	tok, err := old.Mint("microapp", "ma-1001", "alice@example.com")
	require.NoError(t, err)
	return tok
}

// noMigration: an account with nothing to migrate is told so, and where to go.
func noMigration(t *testing.T, b *browser) {
	b.open("/")
	b.screen("signin")
	b.click(`button[data-account="microapp:ma-7007"]`)
	b.screen("nomigration")
	require.Contains(t, b.text("main"), "needs no migration")
	require.True(t, strings.Contains(b.text("main"), "Register and sign in directly"), "says what to do instead")
	var links int
	b.eval(`document.querySelectorAll('main a[href^="https://developer.open-douyin.com"], main a[href^="https://partner.open-douyin.com"]').length`, &links)
	require.Equal(t, 2, links)
	b.check("nomigration")
	b.shot("19-no-migration")
}

// chineseBrowser: a browser asking for Chinese (fresh storage) gets the
// Chinese page, at desktop width and at 375 px.
func chineseBrowser(t *testing.T, b *browser) {
	zh := newBrowser(t, b.base, "zh-CN", 1100, 900) // its own profile: nothing remembered
	zh.shots = b.shots
	zh.open("/")
	zh.screen("signin")
	require.Equal(t, "登录", zh.text("h1"))
	zh.click(`button[data-account="microapp:ma-5005"]`)
	zh.screen("assets")
	require.Equal(t, "账号数据", zh.text("h1"))
	zh.check("assets-zh")
	zh.shot("20-assets-zh")
	zh.startMigration()
	zh.click(`li[data-batch] button[data-action="ACCEPT_AGREEMENT"]`)
	zh.screen("agreement")
	zh.check("agreement-zh")
	zh.shot("22-agreement-zh")
	zh.run(emulation.SetDeviceMetricsOverride(375, 812, 2, true))
	zh.open("/")
	zh.screen("overview")
	zh.click(`li[data-batch] button[data-action="ACCEPT_AGREEMENT"]`)
	zh.screen("agreement")
	zh.shot("24-phone-agreement-zh")
	zh.scrollAgreement()
	zh.click("#agree")
	zh.click("#accept")
	zh.screen("review")
	zh.click("#continue")
	zh.screen("target")
	zh.shot("25-phone-target-zh")
	b.axeLog = append(b.axeLog, zh.axeLog...)
}
