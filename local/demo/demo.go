// Package demo holds the snapshot the local stack loads when no SEED is given
// (docs/CONTRACT.md §4 format): five old-platform accounts covering the cases the
// product handles — several subjects, collaborators, a service provider with
// services, nothing to migrate, and a subject near its mini-program quota.
package demo

import (
	_ "embed"
	"encoding/json"
)

// Snapshot is the demo snapshot's JSON.
//
//go:embed snapshot.json
var Snapshot []byte

// Login returns the login of an old-platform account in the demo snapshot.
// It decodes only what it needs so the token command does not depend on the
// domain packages compiling.
func Login(platform, accountID string) (string, bool) {
	var snap struct {
		Accounts []struct {
			Platform string `json:"platform"`
			ID       string `json:"id"`
			Login    string `json:"login"`
		} `json:"accounts"`
	}
	if json.Unmarshal(Snapshot, &snap) != nil {
		return "", false
	}
	for _, a := range snap.Accounts {
		if a.Platform == platform && a.ID == accountID {
			return a.Login, true
		}
	}
	return "", false
}
