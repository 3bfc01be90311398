package migration

import (
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each language's text is the agreement in force with its own hash; an
// acceptance names the language of the text it hashes.
func TestAgreementPerLanguage(t *testing.T) {
	zh, ok := AgreementIn(LangZH)
	require.True(t, ok)
	en, ok := AgreementIn(LangEN)
	require.True(t, ok)
	_, ok = AgreementIn("fr")
	assert.False(t, ok)
	assert.Equal(t, zh, CurrentAgreement(), "the default is the guide's language")
	assert.NotEqual(t, zh.SHA256, en.SHA256)
	for _, a := range []Agreement{zh, en} {
		assert.Equal(t, AgreementVersion, a.Version)
		require.NoError(t, CheckAcceptance(a.Version, a.SHA256), a.Lang)
		lang, ok := agreementLang(a.SHA256)
		assert.True(t, ok)
		assert.Equal(t, a.Lang, lang)
		assert.Contains(t, a.Text, AgreementVersion, "the text names its version")
		// One paragraph a line: the page wraps them, never the file.
		for _, line := range strings.Split(a.Text, "\n") {
			if line != "" && !strings.HasSuffix(line, ")") && !strings.HasSuffix(line, "）") {
				assert.True(t, strings.HasSuffix(line, ".") || strings.HasSuffix(line, "。"), "%s: a clause ends its sentence on its line: %q", a.Lang, line)
			}
		}
	}
	// The retired bilingual text of this version still counts for views
	// recorded before the texts split, with no language.
	require.NoError(t, CheckAcceptance(AgreementVersion, retiredSHA256))
	lang, ok := agreementLang(retiredSHA256)
	assert.True(t, ok)
	assert.Empty(t, lang)
	assert.Equal(t, CodeAgreementVersionMismatch, ErrorCode(CheckAcceptance("2020-01-01", zh.SHA256)))
}

// The Chinese text is Chinese throughout, with full-width punctuation: no
// English clause, no ASCII comma, colon, semicolon or parenthesis.
func TestChineseAgreementIsChinese(t *testing.T) {
	zh, _ := AgreementIn(LangZH)
	han := 0
	for _, r := range zh.Text {
		if unicode.Is(unicode.Han, r) {
			han++
		}
		assert.NotContains(t, ",:;()!?", string(r), "half-width punctuation in the Chinese agreement")
		assert.False(t, r < unicode.MaxASCII && unicode.IsLetter(r), "a Latin letter in the Chinese agreement: %q", r)
	}
	assert.Greater(t, han, 200)
}
