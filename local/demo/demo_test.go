package demo_test

import (
	"bytes"
	"testing"

	"github.com/devplatform/account-migration/local/demo"
	"github.com/devplatform/account-migration/shared/migration"
)

func TestSnapshotIsValid(t *testing.T) {
	snap, err := migration.ParseSnapshot(bytes.NewReader(demo.Snapshot))
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Accounts) != 5 || len(snap.TargetAccounts) != 4 {
		t.Fatalf("accounts %d, target accounts %d", len(snap.Accounts), len(snap.TargetAccounts))
	}
}

func TestLogin(t *testing.T) {
	if l, ok := demo.Login("microapp", "ma-1001"); !ok || l != "alice@example.com" {
		t.Fatalf("%q %v", l, ok)
	}
	if _, ok := demo.Login("microapp", "nope"); ok {
		t.Fatal("found a missing account")
	}
}
