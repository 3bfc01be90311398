package migration

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
)

// The migration agreement the developer must view and accept (rule 6). Its
// hash is what an acceptance binds to, so a changed text needs a new version.
//
//go:embed agreement/agreement.txt
var agreementText string

// AgreementVersion is the version of the embedded agreement text.
const AgreementVersion = "2026-11-01"

// Agreement is the text a developer views and accepts.
type Agreement struct {
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
	Text    string `json:"text"`
}

var currentAgreement = func() Agreement {
	sum := sha256.Sum256([]byte(agreementText))
	return Agreement{Version: AgreementVersion, SHA256: hex.EncodeToString(sum[:]), Text: agreementText}
}()

// CurrentAgreement is the agreement in force.
func CurrentAgreement() Agreement { return currentAgreement }

// CheckAcceptance says whether an acceptance names the agreement in force.
func CheckAcceptance(version, sha string) error {
	a := CurrentAgreement()
	if version != a.Version || sha != a.SHA256 {
		return Errorf(CodeAgreementVersionMismatch, "the agreement in force is version %s with sha256 %s", a.Version, a.SHA256)
	}
	return nil
}

// Acceptance records who accepted which agreement, when and from where
// (rules 6 and 14).
type Acceptance struct {
	Version    string `json:"version" dynamodbav:"version"`
	SHA256     string `json:"sha256" dynamodbav:"sha256"`
	AcceptedBy string `json:"acceptedBy" dynamodbav:"acceptedBy"`
	AcceptedAt string `json:"acceptedAt" dynamodbav:"acceptedAt"`
	SourceIP   string `json:"sourceIp,omitempty" dynamodbav:"sourceIp,omitempty"`
	UserAgent  string `json:"userAgent,omitempty" dynamodbav:"userAgent,omitempty"`
	Evidence   string `json:"evidence,omitempty" dynamodbav:"evidence,omitempty"`
	Channel    string `json:"channel" dynamodbav:"channel"` // "developer" (HTTP) or "ops" (execution input)
}
