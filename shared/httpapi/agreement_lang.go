package httpapi

import (
	"strings"

	"golang.org/x/text/language"

	"github.com/devplatform/account-migration/shared/migration"
)

// agreementLang chooses the agreement's language: ?lang= when given (zh-CN or
// en, any case), else the first language of Accept-Language, by its q order,
// that the agreement is written in, else the default (zh-CN).
func agreementLang(query, acceptLanguage string) (string, error) {
	if query != "" {
		for _, l := range []string{migration.LangZH, migration.LangEN} {
			if strings.EqualFold(query, l) {
				return l, nil
			}
		}
		return "", migration.Errorf(migration.CodeInvalidInput, "lang must be %s or %s", migration.LangZH, migration.LangEN)
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil {
		return migration.DefaultAgreementLang, nil // an unreadable header asks for nothing
	}
	for _, t := range tags {
		switch base, _ := t.Base(); base.String() {
		case "zh":
			return migration.LangZH, nil
		case "en":
			return migration.LangEN, nil
		}
	}
	return migration.DefaultAgreementLang, nil
}
