package workflow

import (
	"testing"

	"github.com/devplatform/account-migration/shared/migration"
)

const contractExecutionInput = `{
  "source": {"platform": "microapp", "accountId": "ma-1001"},
  "requestedBy": "ops:alice",
  "batchKeys": ["subj-a/developer"],
  "agreement": {"version": "...", "acceptedBy": "...", "evidence": "..."},
  "targets": {"subj-a/developer": {"mode": "existing", "accountId": "dev-1"}},
  "confirm": true
}`

// FuzzParseExecutionInput: ParseExecutionInput never panics; whatever it
// accepts names a source platform, a valid account id and who asked.
func FuzzParseExecutionInput(f *testing.F) {
	f.Add([]byte(contractExecutionInput))
	f.Add([]byte(`{"source":{"platform":"douyin_open_legacy","accountId":"acct-1"},"requestedBy":"developer"}`))
	f.Add([]byte(`{"source":{"platform":"evil","accountId":"acct-1"},"requestedBy":"x"}`))
	f.Add([]byte(`{"source":{"platform":"third_party","accountId":"a/b"},"requestedBy":"x"}`))
	f.Add([]byte(`{"source":{"platform":"microapp","accountId":"ma-1"},"requestedBy":""}`))
	f.Add([]byte(`{"source":{"platform":"microapp","accountId":"ma-1"},"requestedBy":"x","extra":1}`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, raw []byte) {
		in, err := ParseExecutionInput(raw)
		if err != nil {
			if migration.ErrorCode(err) != migration.CodeInvalidInput {
				t.Fatalf("refusal must be INVALID_INPUT, got %v", err)
			}
			return
		}
		switch migration.SourcePlatform(in.Source.Platform) {
		case migration.PlatformMicroapp, migration.PlatformDouyinOpenLegacy, migration.PlatformThirdParty:
		default:
			t.Fatalf("accepted platform %q", in.Source.Platform)
		}
		if !migration.ValidID(in.Source.ID) {
			t.Fatalf("accepted accountId %q", in.Source.ID)
		}
		if in.RequestedBy == "" || len(in.RequestedBy) > 256 {
			t.Fatalf("accepted requestedBy %q", in.RequestedBy)
		}
	})
}
