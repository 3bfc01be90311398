package migration

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckTarget(t *testing.T) {
	const login = "alice@example.com"
	base := TargetAccount{Platform: TargetDeveloper, ID: "dev-1", Login: login, Onboarding: OnboardingCompleted}
	with := func(f func(t *TargetAccount)) TargetAccount {
		x := base
		f(&x)
		return x
	}
	tests := []struct {
		name      string
		target    TargetAccount
		platform  TargetPlatform
		subjectID string
		eligible  bool
	}{
		{"wrong_platform", base, TargetPartner, "subj-a", false},
		{"other_login", with(func(t *TargetAccount) { t.Login = "mallory@example.com" }), TargetDeveloper, "subj-a", false},
		{"login_differs_only_in_case", with(func(t *TargetAccount) { t.Login = "Alice@example.com" }), TargetDeveloper, "subj-a", false},
		{"onboarding_none", with(func(t *TargetAccount) { t.Onboarding = OnboardingNone }), TargetDeveloper, "subj-a", false},
		{"onboarding_empty", with(func(t *TargetAccount) { t.Onboarding = "" }), TargetDeveloper, "subj-a", false},
		{"onboarding_applied_ok", with(func(t *TargetAccount) { t.Onboarding = OnboardingApplied }), TargetDeveloper, "subj-a", true},
		{"onboarding_completed_ok", base, TargetDeveloper, "subj-a", true},
		{"holds_another_subject", with(func(t *TargetAccount) { t.SubjectID = "subj-b" }), TargetDeveloper, "subj-a", false},
		{"holds_same_subject_ok", with(func(t *TargetAccount) { t.SubjectID = "subj-a" }), TargetDeveloper, "subj-a", true},
		{"no_subject_yet_ok", base, TargetDeveloper, "subj-a", true},
		{"partner_account_for_partner_batch_ok", with(func(t *TargetAccount) { t.Platform = TargetPartner }), TargetPartner, "subj-a", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckTarget(tc.target, login, tc.platform, tc.subjectID)
			if tc.eligible {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, CodeTargetNotEligible, ErrorCode(err))
			assert.Contains(t, err.Error(), tc.target.ID, "the message names the account")
		})
	}
}

func TestMiniProgramQuota(t *testing.T) {
	assert.Equal(t, 10, MiniProgramQuota(SubjectCompany))
	assert.Equal(t, 5, MiniProgramQuota(SubjectIndividualBusiness))
	assert.Equal(t, 5, MiniProgramQuota(SubjectPerson))
}

func TestCheckAcceptance(t *testing.T) {
	cur := CurrentAgreement()
	require.NotEmpty(t, cur.Text)
	require.Len(t, cur.SHA256, 64)
	assert.Equal(t, AgreementVersion, cur.Version)

	assert.NoError(t, CheckAcceptance(cur.Version, cur.SHA256))
	for name, vs := range map[string][2]string{
		"wrong_version":    {"2020-01-01", cur.SHA256},
		"wrong_sha":        {cur.Version, strings.Repeat("0", 64)},
		"uppercase_sha":    {cur.Version, strings.ToUpper(cur.SHA256)},
		"empty":            {"", ""},
		"version_only":     {cur.Version, ""},
		"sha_only":         {"", cur.SHA256},
		"swapped_fields":   {cur.SHA256, cur.Version},
		"sha_with_padding": {cur.Version, " " + cur.SHA256},
	} {
		t.Run(name, func(t *testing.T) {
			err := CheckAcceptance(vs[0], vs[1])
			require.Error(t, err)
			assert.Equal(t, CodeAgreementVersionMismatch, ErrorCode(err))
			assert.Contains(t, err.Error(), cur.Version, "tells which version is in force")
		})
	}
}

var allStates = []BatchState{AwaitingAgreement, AwaitingTarget, AwaitingConfirmation, Committing, Committed, Failed, Expired}

func TestBatchStateHelpers(t *testing.T) {
	tests := []struct {
		state                        BatchState
		waiting, pastNoReturn, final bool
		agreementDone, targetDone    bool
		confirmationDone             bool
		nextAction                   string
	}{
		{AwaitingAgreement, true, false, false, false, false, false, "ACCEPT_AGREEMENT"},
		{AwaitingTarget, true, false, false, true, false, false, "SELECT_TARGET"},
		{AwaitingConfirmation, true, false, false, true, true, false, "CONFIRM"},
		{Committing, false, true, false, true, true, true, "WAIT"},
		{Committed, false, true, true, true, true, true, "VIEW_TARGET"},
		{Failed, false, false, true, false, false, false, "START_AGAIN"},
		{Expired, false, false, true, false, false, false, "START_AGAIN"},
	}
	require.Len(t, tests, len(allStates))
	for _, tc := range tests {
		t.Run(string(tc.state), func(t *testing.T) {
			assert.Equal(t, tc.waiting, tc.state.WaitingOnDeveloper(), "WaitingOnDeveloper")
			assert.Equal(t, tc.pastNoReturn, tc.state.PastPointOfNoReturn(), "PastPointOfNoReturn")
			assert.Equal(t, tc.final, tc.state.Final(), "Final")
			assert.Equal(t, tc.agreementDone, StepAgreement.Done(tc.state), "StepAgreement.Done")
			assert.Equal(t, tc.targetDone, StepTarget.Done(tc.state), "StepTarget.Done")
			assert.Equal(t, tc.confirmationDone, StepConfirmation.Done(tc.state), "StepConfirmation.Done")
			assert.Equal(t, tc.nextAction, NextAction(tc.state))
			// A batch that waits can expire; one past the point of no return never
			// waits and never goes back (rule 9, 13).
			assert.False(t, tc.state.WaitingOnDeveloper() && tc.state.PastPointOfNoReturn())
			assert.False(t, tc.state.WaitingOnDeveloper() && tc.state.Final())
		})
	}
	assert.Equal(t, AwaitingAgreement, StepAgreement.WaitState())
	assert.Equal(t, AwaitingTarget, StepTarget.WaitState())
	assert.Equal(t, AwaitingConfirmation, StepConfirmation.WaitState())
}

func TestDeriveMigrationState(t *testing.T) {
	tests := []struct {
		name     string
		eligible bool
		states   []BatchState
		want     MigrationState
	}{
		{"not_eligible", false, nil, MigrationNoMigrationNeeded},
		{"not_eligible_wins_over_batches", false, []BatchState{Committed}, MigrationNoMigrationNeeded},
		{"all_committed", true, []BatchState{Committed, Committed}, MigrationCompleted},
		{"committed_failed_expired_is_completed", true, []BatchState{Committed, Failed, Expired}, MigrationCompleted},
		{"all_expired_is_completed", true, []BatchState{Expired}, MigrationCompleted},
		{"one_waiting", true, []BatchState{Committed, AwaitingConfirmation}, MigrationInProgress},
		{"one_committing", true, []BatchState{Committing, Committed}, MigrationInProgress},
		{"fresh", true, []BatchState{AwaitingAgreement, AwaitingAgreement}, MigrationInProgress},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, DeriveMigrationState(tc.eligible, tc.states))
		})
	}
	// COMPLETED only when every batch is final.
	for _, s := range allStates {
		got := DeriveMigrationState(true, []BatchState{Committed, s})
		if s.Final() {
			assert.Equal(t, MigrationCompleted, got, "with %s", s)
		} else {
			assert.Equal(t, MigrationInProgress, got, "with %s", s)
		}
	}
}

func TestValidID(t *testing.T) {
	for _, ok := range []string{"ma-1001", "alice@example.com", "a", "A_b.c+d", "13800138000", strings.Repeat("x", 128)} {
		assert.True(t, ValidID(ok), "%q must be accepted", ok)
	}
	for _, bad := range []string{
		"", strings.Repeat("x", 129), "a/b", "a b", "..%2f", "../x", `a\b`, "a:b", "a#b", "a?b", "a\x00b", "a\nb",
		"\u0430pp",  // Cyrillic а
		"app\u200b", // zero-width space
		"ａpp",       // full-width a
	} {
		assert.False(t, ValidID(bad), "%q must be refused", bad)
	}
}

func TestBatchKeyRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		subject  string
		platform TargetPlatform
		key      string
		parsed   string
	}{
		{"subj-a", TargetDeveloper, "subj-a/developer", "subj-a"},
		{"subj-a", TargetPartner, "subj-a/partner", "subj-a"},
		{"", TargetDeveloper, "personal/developer", PersonalSubject},
		{PersonalSubject, TargetPartner, "personal/partner", PersonalSubject},
	} {
		key := BatchKey(tc.subject, tc.platform)
		assert.Equal(t, tc.key, key)
		s, p, ok := ParseBatchKey(key)
		require.True(t, ok, key)
		assert.Equal(t, tc.parsed, s)
		assert.Equal(t, tc.platform, p)
		assert.Equal(t, key, BatchKey(s, p), "round trip")
	}
	for _, bad := range []string{"", "/", "subj-a", "subj-a/", "/developer", "subj-a/other", "subj-a/Developer", "subj-a/developer/"} {
		_, _, ok := ParseBatchKey(bad)
		assert.False(t, ok, "%q must not parse", bad)
	}
}
