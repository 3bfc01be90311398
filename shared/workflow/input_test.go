package workflow

import (
	"testing"

	"github.com/devplatform/account-migration/shared/migration"
)

func TestParseExecutionInput(t *testing.T) {
	in, err := ParseExecutionInput([]byte(contractExecutionInput))
	if err != nil {
		t.Fatalf("docs/CONTRACT.md §3 example refused: %v", err)
	}
	if in.Source != (migration.AccountRef{Platform: "microapp", ID: "ma-1001"}) || in.RequestedBy != "ops:alice" ||
		len(in.BatchKeys) != 1 || in.BatchKeys[0] != "subj-a/developer" || in.Agreement == nil || in.Confirm == nil || !*in.Confirm ||
		in.Targets["subj-a/developer"] != (migration.Target{Mode: "existing", AccountID: "dev-1"}) {
		t.Fatalf("docs/CONTRACT.md §3 example decoded as %+v", in)
	}
	ops := in.ops()
	if ops == nil || !ops.Confirm || ops.Agreement == nil || len(ops.Targets) != 1 {
		t.Fatalf("ops instructions lost: %+v", ops)
	}

	minimal, err := ParseExecutionInput([]byte(`{"source":{"platform":"third_party","accountId":"tp-1"},"requestedBy":"ops:bob"}`))
	if err != nil {
		t.Fatalf("minimal input refused: %v", err)
	}
	if minimal.ops() != nil {
		t.Fatalf("without agreement, targets or confirm the execution must wait for the developer, got %+v", minimal.ops())
	}
	confirmFalse, err := ParseExecutionInput([]byte(`{"source":{"platform":"third_party","accountId":"tp-1"},"requestedBy":"ops:bob","confirm":false}`))
	if err != nil || confirmFalse.ops() != nil {
		t.Fatalf("confirm:false alone must not pre-confirm: %+v %v", confirmFalse.ops(), err)
	}

	for name, raw := range map[string]string{
		"no_source":          `{"requestedBy":"ops:bob"}`,
		"no_requestedBy":     `{"source":{"platform":"microapp","accountId":"ma-1"}}`,
		"unknown_platform":   `{"source":{"platform":"developer","accountId":"ma-1"},"requestedBy":"x"}`,
		"bad_account_id":     `{"source":{"platform":"microapp","accountId":"../ma-1"},"requestedBy":"x"}`,
		"unknown_field":      `{"source":{"platform":"microapp","accountId":"ma-1"},"requestedBy":"x","force":true}`,
		"unknown_nested":     `{"source":{"platform":"microapp","accountId":"ma-1","login":"x"},"requestedBy":"x"}`,
		"wrong_type":         `{"source":{"platform":"microapp","accountId":"ma-1"},"requestedBy":"x","confirm":"yes"}`,
		"malformed":          `{"source":`,
		"duplicated_confirm": `{"source":{"platform":"microapp","accountId":"ma-1"},"requestedBy":"x","confirm":false,"confirm":true}`,
		"accountId_in_caps":  `{"source":{"platform":"microapp","ACCOUNTID":"ma-1"},"requestedBy":"x"}`,
		"empty":              ``,
	} {
		if _, err := ParseExecutionInput([]byte(raw)); migration.ErrorCode(err) != migration.CodeInvalidInput {
			t.Errorf("%s: want INVALID_INPUT, got %v", name, err)
		}
	}
}
