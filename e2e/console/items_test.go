package console

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/devplatform/account-migration/local/stack"
	"github.com/devplatform/account-migration/local/stacktest"
	"github.com/devplatform/account-migration/shared/dynamostore"
	"github.com/devplatform/account-migration/shared/migration"
)

// What a first-time developer tripped over, each on an account of its own
// (browser_test.go's snapshot: ma-9101 ... ma-9108).

// 1. A chosen target can be changed until the confirmation, and nothing is
// chosen for the developer.
func changeTarget(t *testing.T, b *browser) {
	b.signInAs("ma-9101")
	b.startMigration()
	b.acceptAgreement()
	b.click(`main .actions button:not(.secondary)`) // to the target
	b.screen("target")
	var checked int
	b.eval(`document.querySelectorAll('input[name=target]:checked').length`, &checked)
	require.Zero(t, checked, "no target is ticked for the developer")
	b.chooseTarget("dev-item1")
	require.Contains(t, b.text("#chosen-target"), "dev-item1")

	b.has("#change-target", "the confirmation offers to change the target")
	b.click("#change-target")
	b.screen("target")
	require.Contains(t, b.text("#current-target"), "dev-item1", "the target screen says what is chosen now")
	b.chooseTarget("")
	require.Contains(t, b.text("#chosen-target"), "a new account")

	// From the overview too.
	b.click(`[data-to="overview"]`)
	b.screen("overview")
	b.has(`button[data-action="CHANGE_TARGET"]`)
	b.click(`button[data-action="CHANGE_TARGET"]`)
	b.screen("target")
	b.chooseTarget("dev-item1")
	b.commitAndWait()
	b.click("#see-target")
	b.screen("done")
	require.Contains(t, b.text("#target-account"), "dev-item1", "the last choice is the one that moved")
}

// 2. Progress says when it is done: heading, text and count.
func progressDone(t *testing.T, b *browser) {
	b.migrate("ma-9102", "dev-item2")
	require.Equal(t, "Migration complete", b.text("h1"))
	main := b.text("main")
	require.NotContains(t, main, "is moving", "nothing says it is still moving")
	require.Equal(t, "3 of 3 items moved", b.text("#bar-label"), "the count says it once, without a state beside it")
	require.Contains(t, main, "Everything in this batch has moved")
	b.click(`#lang`)
	b.screen("progress")
	b.waitFor(`main[data-done="true"]`)
	require.Equal(t, "迁移完成", b.text("h1"))
	require.Equal(t, "已迁移 3 / 3 项", b.text("#bar-label"))
	require.NotContains(t, b.text("main"), "正在迁移")
	b.click(`#lang`)
	b.screen("progress")
}

// 3. Members do not vanish: the page says whose they are and where they went.
func membersExplained(t *testing.T, b *browser) {
	b.signInAs("ma-9103")
	b.startMigration()
	b.acceptAgreement()
	b.has("#members-note", "the review says what happens to the members")
	require.Contains(t, b.text("#members-note"), "member's own account")
	b.click(`main .actions button:not(.secondary)`)
	b.screen("target")
	b.chooseTarget("dev-item3")
	b.commitAndWait()
	b.has("#members-note", "the progress says the count leaves the members out")
	require.Contains(t, b.text("#members-note"), "1 member relation")
	b.click("#see-target")
	b.screen("done")
	b.has("#app-members", "the done screen lists each app's members")
	members := b.text("#app-members")
	require.Contains(t, members, "Puzzle 3 · member account ma-2002 · collaborator")
	require.Contains(t, members, "linked to the app on Douyin Open Platform (new)")
}

// 4. One address per screen: Back and Forward move between screens and
// never leave the console; a reload stays; the navigation leads back to the
// account's assets once a migration started.
func backAndForward(t *testing.T, b *browser) {
	b.signInAs("ma-9104")
	require.Contains(t, b.address(), "screen=assets")
	b.click(`main .actions button`)
	b.screen("plan")
	require.Contains(t, b.address(), "screen=plan")
	b.click(`main .actions button`)
	b.screen("overview")
	require.Contains(t, b.address(), "screen=overview")
	b.click(`li[data-batch] button[data-action="ACCEPT_AGREEMENT"]`)
	b.screen("agreement")
	agreement := b.address()
	require.Contains(t, agreement, "screen=agreement")
	require.Contains(t, agreement, "batch=")

	b.eval(`history.back(); true`, nil)
	b.screen("overview")
	require.Contains(t, b.address(), "screen=overview")
	b.eval(`history.forward(); true`, nil)
	b.screen("agreement")
	require.Equal(t, agreement, b.address())

	b.scrollAgreement()
	b.click("#agree")
	b.click("#accept")
	b.screen("review")
	require.Contains(t, b.address(), "screen=review")
	b.run(chromedp.Reload())
	b.screen("review")
	b.eval(`history.back(); true`, nil)
	b.screen("agreement")
	require.Contains(t, b.text("#accepted"), "You accepted version", "back on an accepted agreement: what was accepted")
	b.eval(`history.back(); true`, nil)
	b.screen("overview")

	b.has("#nav-assets", "a way back to what the account holds")
	b.click("#nav-assets")
	b.screen("assets")
	b.eval(`history.back(); true`, nil)
	b.screen("overview")
	var origin string
	b.eval(`location.origin + location.pathname`, &origin)
	require.Equal(t, b.base+"/", origin, "Back never left the console")
}

// 5. The agreement, review, target and confirmation screens name their batch.
func batchNamed(t *testing.T, b *browser) {
	b.signInAs("ma-9105")
	b.startMigration()
	var titles []string
	b.eval(`[...document.querySelectorAll('li[data-batch] h2')].map(h => h.textContent)`, &titles)
	require.Len(t, titles, 2, "two batches open at once")
	subject := strings.Split(titles[1], " → ")[0]
	b.click(`li[data-batch]:nth-child(2) button[data-action="ACCEPT_AGREEMENT"]`)
	b.screen("agreement")
	b.has("#batch-name", "the agreement names its batch")
	require.Contains(t, b.text("#batch-name"), subject)
	b.scrollAgreement()
	b.click("#agree")
	b.click("#accept")
	b.screen("review")
	require.Contains(t, b.text("#batch-name"), subject)
	b.click(`main .actions button:not(.secondary)`)
	b.screen("target")
	require.Contains(t, b.text("#batch-name"), subject)
	b.click(`input[name=target][value=""]`)
	b.click(`form button[type=submit]`)
	b.screen("confirm")
	require.Contains(t, b.text("#batch-name"), subject)
}

// 6. The agreement in Chinese, read to its end before it can be accepted, and
// the hash recorded is the Chinese text's, with its language, in the batch
// and in the audit trail.
func agreementInChinese(t *testing.T, b *browser, s *stack.Stack) {
	zh := newBrowser(t, b.base, "zh-CN", 1100, 900)
	zh.signInAs("ma-9106")
	zh.startMigration()
	zh.click(`li[data-batch] button[data-action="ACCEPT_AGREEMENT"]`)
	zh.screen("agreement")
	text := zh.text("#agreement-text")
	require.Contains(t, text, "迁移范围", "the agreement in Chinese")
	require.NotRegexp(t, regexp.MustCompile(`[A-Za-z]{3,}`), text, "no English in the Chinese agreement")
	require.NotContains(t, text, "\n   ", "the page wraps the text, the file does not")
	// The text follows the page's language, not only the browser's.
	zh.click("#lang")
	zh.screen("agreement")
	require.Contains(t, zh.text("#agreement-text"), "1. Scope.", "in English once the page is")
	require.NotContains(t, zh.text("#agreement-text"), "迁移范围")
	zh.click("#lang")
	zh.screen("agreement")
	require.Contains(t, zh.text("#agreement-text"), "迁移范围")
	var agreeDisabled, scrolls bool
	zh.eval(`(e => e.scrollHeight > e.clientHeight)(document.getElementById('agreement-text'))`, &scrolls)
	require.True(t, scrolls, "the text is longer than its box here")
	zh.eval(`document.getElementById('agree').disabled`, &agreeDisabled)
	require.True(t, agreeDisabled, "the agreement cannot be accepted before it is read to its end")
	zh.scrollAgreement()
	zh.eval(`document.getElementById('agree').disabled`, &agreeDisabled)
	require.False(t, agreeDisabled)
	zh.click("#agree")
	zh.click("#accept")
	zh.screen("review")

	want, ok := migration.AgreementIn(migration.LangZH)
	require.True(t, ok)
	var migID string
	zh.eval(`localStorage.getItem('console.migration.microapp:ma-9106')`, &migID)
	require.NotEmpty(t, migID)
	tok, err := s.Token("microapp", "ma-9106", "item6@example.com")
	require.NoError(t, err)
	req, _ := http.NewRequest("GET", s.APIURL+"/v1/migrations/"+migID, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var m struct {
		Batches []struct {
			Agreement *struct{ Version, SHA256, Lang string } `json:"agreement"`
		} `json:"batches"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&m))
	require.Len(t, m.Batches, 1)
	require.NotNil(t, m.Batches[0].Agreement)
	assert.Equal(t, want.SHA256, m.Batches[0].Agreement.SHA256, "the hash of the Chinese text the developer read")
	assert.Equal(t, "zh-CN", m.Batches[0].Agreement.Lang)

	store := dynamostore.New(stacktest.DynamoDB(s), s.TableName).WithAuditTable(s.AuditTableName)
	trail, _, err := store.AuditTrail(context.Background(), migration.AccountRef{Platform: "microapp", ID: "ma-9106"}, "", 1000)
	require.NoError(t, err)
	var viewed, accepted bool
	for _, ev := range trail {
		switch ev.Event {
		case migration.EventAgreementViewed:
			viewed = viewed || (ev.Detail["lang"] == "zh-CN" && ev.Detail["sha256"] == want.SHA256)
		case migration.EventAgreementAccepted:
			accepted = ev.Agreement != nil && ev.Agreement.Lang == "zh-CN" && ev.Agreement.SHA256 == want.SHA256
		}
	}
	assert.True(t, viewed, "the audit trail records the Chinese text viewed: %+v", trail)
	assert.True(t, accepted, "the audit trail records the Chinese text accepted: %+v", trail)
	b.axeLog = append(b.axeLog, zh.axeLog...)
}

// 7. A new account comes with sign-in guidance, as an existing one does.
func newAccountGuidance(t *testing.T, b *browser) {
	b.migrate("ma-9107", "")
	b.click("#see-target")
	b.screen("done")
	b.has("#signin-guide", "the done screen says how to sign in to the new account")
	guide := b.text("#signin-guide")
	require.Contains(t, guide, "This account is new")
	require.Contains(t, guide, "item7@example.com")
	b.check("done-new-account")
	b.shot("26-done-new-account-guidance")
}

// 8. Errors show where the user is looking, one at a time; a refresh says
// that it refreshed.
func errorsInView(t *testing.T, b *browser) {
	b.run(emulation.SetDeviceMetricsOverride(375, 812, 2, true))
	defer b.run(emulation.SetDeviceMetricsOverride(1100, 900, 1, false))
	b.open("/")
	b.eval(`sessionStorage.clear(); true`, nil)
	b.open("/")
	b.screen("signin")
	b.run(chromedp.SetValue("#token", expiredAlice(t), chromedp.ByQuery))
	b.click(`form button[type=submit]`)
	b.waitFor(`main [data-code="UNAUTHORIZED"]`)
	require.True(t, b.inView(`main [data-code="UNAUTHORIZED"]`), "the expired token's message shows where the token was pasted")

	b.run(chromedp.SetValue("#token", "not-a-token", chromedp.ByQuery))
	b.click(`form button[type=submit]`)
	b.waitFor(`main [data-code="TOKEN_UNREADABLE"]`)
	var alerts []string
	b.eval(`[...document.querySelectorAll('main .alert')].map(a => a.dataset.code)`, &alerts)
	require.Equal(t, []string{"TOKEN_UNREADABLE"}, alerts, "one message: the old one went")
	require.True(t, b.inView(`main [data-code="TOKEN_UNREADABLE"]`), "the message shows where the token was pasted")
	b.shot("27-phone-error-in-view")

	// Choosing no target is said next to the button.
	b.run(emulation.SetDeviceMetricsOverride(1100, 900, 1, false))
	b.signInAs("ma-9108")
	b.startMigration()
	b.click("#refresh")
	b.waitFor("#updated:not(:empty)")
	require.NotEmpty(t, strings.TrimSpace(b.text("#updated")), "a refresh says it refreshed")
	var focused string
	b.eval(`document.activeElement.id`, &focused)
	require.Equal(t, "refresh", focused)
	b.acceptAgreement()
	b.click(`main .actions button:not(.secondary)`)
	b.screen("target")
	b.eval(`document.querySelectorAll('input[name=target]').forEach(i => i.checked = false); true`, nil)
	b.click(`form button[type=submit]`)
	b.waitFor(`main [data-code="TARGET_REQUIRED"]`)
	require.True(t, b.inView(`main [data-code="TARGET_REQUIRED"]`))
}

// 9. The smaller things: names not ids, plurals, no lone "Page 1", a
// personal batch's subject type, full-width punctuation in Chinese, the
// favicon.
func smallerThings(t *testing.T, b *browser) {
	b.signInAs("ma-2002") // bob: a personal batch of collaboration relations
	b.click(`main .actions button`)
	b.screen("plan")
	require.Contains(t, b.text("main"), ": 1 batch.", "one batch, not batch(es)")
	var kinds []string
	b.eval(`[...document.querySelectorAll('li[data-batch] dd')].map(d => d.textContent)`, &kinds)
	for _, k := range kinds {
		require.NotEmpty(t, strings.TrimSpace(k), "no empty field: %v", kinds)
	}
	require.Contains(t, b.text("li[data-batch]"), "no subject")

	b.signInAs("ma-9104") // its migration waits on its target: a one-page review
	b.screen("overview")
	b.click(`li[data-batch] button[data-action="SELECT_TARGET"]`)
	b.screen("review")
	main := b.text("main")
	require.NotContains(t, main, "None on this page")
	require.NotContains(t, main, "Page 1")
	require.Contains(t, main, "Puzzle 4 · mini-program")
	require.Contains(t, main, "Order ord-app-item4 · Puzzle 4 · 9.90 CNY · paid")
	require.NotContains(t, main, "ds-app-item4", "data and orders with their app's name, not its id")

	// Chinese: full-width punctuation next to Chinese text.
	b.click("#lang")
	b.screen("review")
	for _, sel := range []string{"main", "header", "#steps"} {
		require.Empty(t, halfWidth.FindAllString(b.text(sel), -1), "half-width punctuation in Chinese text of %s", sel)
	}
	b.click("#lang")
	b.screen("review")

	// No /favicon.ico request fails: the icon is inline.
	var icon string
	b.eval(`(document.querySelector('link[rel=icon]') || {}).href || ''`, &icon)
	require.True(t, strings.HasPrefix(icon, "data:image/svg+xml,"), "an inline icon, so the browser asks for no /favicon.ico: %q", icon)
	res, err := http.Get(b.base + "/favicon.ico")
	require.NoError(t, err)
	res.Body.Close()
	t.Logf("GET /favicon.ico (never asked for by the page): %d", res.StatusCode)
}
