package httpapi

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAgreementLanguageChoice(t *testing.T) {
	for _, c := range []struct{ query, header, want string }{
		{"", "", "zh-CN"},                          // nothing asked: the guide's language
		{"", "en-US,en;q=0.9", "en"},               // a browser in English
		{"", "zh-TW,zh;q=0.9,en;q=0.8", "zh-CN"},   // any Chinese reads the Chinese text
		{"", "fr-FR, en;q=0.5, zh;q=0.8", "zh-CN"}, // by q order, not by position
		{"", "fr-FR,de;q=0.9", "zh-CN"},            // none we have: the default
		{"", ";;;garbage", "zh-CN"},                // unreadable: as if absent
		{"en", "zh-CN", "en"},                      // the query wins over the header
		{"ZH-cn", "en", "zh-CN"},                   // any case
	} {
		got, err := agreementLang(c.query, c.header)
		require.NoError(t, err, "%+v", c)
		assert.Equal(t, c.want, got, "?lang=%q Accept-Language: %q", c.query, c.header)
	}
	for _, bad := range []string{"zh", "en-US", "fr", "zh-CN,en"} {
		_, err := agreementLang(bad, "")
		require.Error(t, err, "?lang=%s", bad)
	}
}

// An unknown ?lang= is 400 INVALID_INPUT before any store is read.
func TestAgreementUnknownLanguageRefused(t *testing.T) {
	ev := event("GET /v1/agreement", "/v1/agreement", withAuth(alice()))
	ev.QueryStringParameters = map[string]string{"lang": "fr"}
	wantError(t, ev, http.StatusBadRequest, "INVALID_INPUT")
}
