package migration

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
)

// The migration agreement the developer must view and accept (rule 6), in
// each language the console speaks. One version is one set of terms; each
// language's text has its own hash, and an acceptance binds to the hash of
// the text the developer saw, so a changed text needs a new version.

//go:embed agreement/zh-CN.txt
var agreementZH string

//go:embed agreement/en.txt
var agreementEN string

// AgreementVersion is the version of the embedded agreement texts.
const AgreementVersion = "2026-11-01"

// The agreement's languages (BCP 47 tags); DefaultAgreementLang is the
// guide's own language, shown when the caller asks for none we have.
const (
	LangZH               = "zh-CN"
	LangEN               = "en"
	DefaultAgreementLang = LangZH
)

// Agreement is the text a developer views and accepts.
type Agreement struct {
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
	Text    string `json:"text"`
	Lang    string `json:"lang"`
}

var agreements = func() map[string]Agreement {
	m := map[string]Agreement{}
	for lang, text := range map[string]string{LangZH: agreementZH, LangEN: agreementEN} {
		sum := sha256.Sum256([]byte(text))
		m[lang] = Agreement{Version: AgreementVersion, SHA256: hex.EncodeToString(sum[:]), Text: text, Lang: lang}
	}
	return m
}()

// retiredSHA256 is the one bilingual text this version had before each
// language had its own (same terms). Views and ops inputs recorded with its
// hash before then still name the version in force; no one is shown it now.
const retiredSHA256 = "2fab85d03047b0cd5f9d792db8d971b1a770ec38c27b87756b5329cfd2edc3e0"

// CurrentAgreement is the agreement in force, in the default language.
func CurrentAgreement() Agreement { return agreements[DefaultAgreementLang] }

// AgreementIn is the agreement in force in lang (LangZH or LangEN); false
// for a language it is not written in.
func AgreementIn(lang string) (Agreement, bool) {
	a, ok := agreements[lang]
	return a, ok
}

// CheckAcceptance says whether an acceptance names the agreement in force,
// in any of its languages.
func CheckAcceptance(version, sha string) error {
	if version == AgreementVersion {
		if _, ok := agreementLang(sha); ok {
			return nil
		}
	}
	zh, en := agreements[LangZH], agreements[LangEN]
	return Errorf(CodeAgreementVersionMismatch, "the agreement in force is version %s with sha256 %s (%s) or %s (%s)",
		AgreementVersion, zh.SHA256, LangZH, en.SHA256, LangEN)
}

// agreementLang is the language of the text of the version in force with
// that hash ("" for the retired bilingual text).
func agreementLang(sha string) (string, bool) {
	for lang, a := range agreements {
		if a.SHA256 == sha {
			return lang, true
		}
	}
	return "", sha == retiredSHA256
}

// Acceptance records who accepted which agreement, in which language, when
// and from where (rules 6 and 14).
type Acceptance struct {
	Version    string `json:"version" dynamodbav:"version"`
	SHA256     string `json:"sha256" dynamodbav:"sha256"`
	Lang       string `json:"lang,omitempty" dynamodbav:"lang,omitempty"` // the text's language, of the hash
	AcceptedBy string `json:"acceptedBy" dynamodbav:"acceptedBy"`
	AcceptedAt string `json:"acceptedAt" dynamodbav:"acceptedAt"`
	SourceIP   string `json:"sourceIp,omitempty" dynamodbav:"sourceIp,omitempty"`
	UserAgent  string `json:"userAgent,omitempty" dynamodbav:"userAgent,omitempty"`
	Evidence   string `json:"evidence,omitempty" dynamodbav:"evidence,omitempty"`
	Channel    string `json:"channel" dynamodbav:"channel"` // "developer" (HTTP) or "ops" (execution input)
}
