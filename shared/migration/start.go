package migration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"
)

// BeginInput starts (or resumes) the migration of one account.
type BeginInput struct {
	MigrationID string
	Source      AccountRef
	RequestedBy string
	BatchKeys   []string
	Ops         *OpsInstructions
	// StartsExecution: the caller starts the execution after Begin (the HTTP
	// path); until it has, the batches refuse every step.
	StartsExecution bool
	// ExecutionArn is the execution calling Begin (the workflow path): it is
	// written with the migration, or attached to one the HTTP path created.
	ExecutionArn string
}

// BeginResult says what Begin found.
type BeginResult struct {
	MigrationID string
	// ActiveMigrationID is set when another migration of the account is still
	// active: nothing was started.
	ActiveMigrationID string
	Eligible          bool
	BatchIDs          []string
	// Resumed says the migration existed already: Begin created nothing.
	Resumed bool
}

// Begin claims the account for one migration and creates its batches. It is
// idempotent per MigrationID: the HTTP path calls it before starting the
// execution, and the execution's first steps call it again.
func (s *WorkflowSteps) Begin(ctx context.Context, in BeginInput) (BeginResult, error) {
	if !ValidID(in.MigrationID) {
		return BeginResult{}, Errorf(CodeInvalidInput, "migration id %q is not valid", in.MigrationID)
	}
	acct, err := s.Store.SourceAccount(ctx, in.Source)
	if err != nil {
		return BeginResult{}, err
	}
	if m, err := s.Store.Migration(ctx, in.MigrationID); err == nil {
		// Already begun (a retried step, or the execution after the HTTP call).
		if m.Source != in.Source {
			return BeginResult{}, Errorf(CodeConflict, "migration %s belongs to another account", in.MigrationID)
		}
		if m.ExecutionArn == "" && in.ExecutionArn != "" {
			if err := s.Store.SetExecutionArn(ctx, m.MigrationID, in.ExecutionArn); err != nil {
				return BeginResult{}, err
			}
		}
		return BeginResult{MigrationID: m.MigrationID, Eligible: m.Eligible, BatchIDs: m.BatchIDs, Resumed: true}, nil
	} else if !IsCode(err, CodeNotFound) {
		return BeginResult{}, err
	}
	plan, err := s.reads().Plan(ctx, in.Source)
	if err != nil {
		return BeginResult{}, err
	}
	if in.Ops != nil {
		if err := in.Ops.validate(plan, in.BatchKeys); err != nil {
			return BeginResult{}, err
		}
	}
	var selected []PlannedBatch
	if plan.Eligible {
		// An account that needs no migration ends NO_MIGRATION_NEEDED
		// whatever batch keys were asked for: there is nothing to select.
		if selected, err = plan.Select(in.BatchKeys); err != nil {
			return BeginResult{}, err
		}
	}
	at := s.stamp()
	expiresAt := s.now().Add(s.pending()).Format(time.RFC3339)
	m := Migration{MigrationID: in.MigrationID, Source: in.Source, Login: acct.Login, RequestedBy: in.RequestedBy,
		Eligible: plan.Eligible, BatchKeys: in.BatchKeys, Ops: in.Ops, CreatedAt: at, StartsExecution: in.StartsExecution,
		ExecutionArn: in.ExecutionArn}
	batches := make([]Batch, 0, len(selected))
	for _, pb := range selected {
		b := Batch{MigrationID: m.MigrationID, BatchID: BatchID(m.MigrationID, pb.BatchKey), BatchKey: pb.BatchKey,
			SubjectID: pb.SubjectID, TargetPlatform: pb.TargetPlatform, Source: in.Source, Login: acct.Login,
			State: AwaitingAgreement, Counts: pb.Counts, Total: pb.Moves, MiniPrograms: pb.MiniPrograms, CreatedAt: at, UpdatedAt: at, ExpiresAt: expiresAt}
		if pb.MiniPrograms <= maxProbedMini {
			b.Probe = plan.Probes[pb.BatchKey]
		}
		if pb.SubjectID != PersonalSubject {
			sub, err := s.Store.Subject(ctx, pb.SubjectID)
			if err != nil {
				return BeginResult{}, err
			}
			b.SubjectKind = sub.Kind
		}
		batches = append(batches, b)
		m.BatchIDs = append(m.BatchIDs, b.BatchID)
	}
	ev := AuditEvent{At: at, Event: EventMigrationStarted, Account: in.Source.String(), MigrationID: m.MigrationID,
		Actor: in.RequestedBy, Detail: map[string]any{"batches": len(batches), "eligible": plan.Eligible}}
	active, err := s.Store.CreateMigration(ctx, m, batches, ev)
	if err != nil {
		// The claim must not outlive a migration that was never written (the
		// account would be turned away for good; an account with more batches
		// than one transaction holds is claimed before its last write); but a
		// write whose answer was lost did happen, and then the claim stays.
		if _, gerr := s.Store.Migration(ctx, in.MigrationID); IsCode(gerr, CodeNotFound) {
			if rerr := s.Store.ReleaseActive(ctx, in.Source, in.MigrationID); rerr != nil {
				slog.WarnContext(ctx, "release claim after failed create", "migrationId", in.MigrationID, "error", rerr)
			}
		}
		return BeginResult{}, err
	}
	if active != in.MigrationID {
		return BeginResult{MigrationID: in.MigrationID, ActiveMigrationID: active}, nil
	}
	return BeginResult{MigrationID: m.MigrationID, Eligible: m.Eligible, BatchIDs: m.BatchIDs}, nil
}

func (o *OpsInstructions) validate(plan Plan, batchKeys []string) error {
	if o.Agreement != nil {
		if o.Agreement.Version != CurrentAgreement().Version {
			return Errorf(CodeAgreementVersionMismatch, "the agreement in force is version %s", CurrentAgreement().Version)
		}
		if o.Agreement.AcceptedBy == "" || o.Agreement.Evidence == "" {
			return Errorf(CodeInvalidInput, "an ops agreement needs acceptedBy and evidence")
		}
		// The acceptance binds to this version's text, whatever is in force
		// when the wait applies it.
		o.Agreement.SHA256 = CurrentAgreement().SHA256
	}
	if err := o.targetsSelected(batchKeys); err != nil {
		return err
	}
	keys := map[string]bool{}
	for _, b := range plan.Batches {
		keys[b.BatchKey] = true
	}
	for _, k := range slices.Sorted(maps.Keys(o.Targets)) {
		if plan.Eligible && !keys[k] {
			return Errorf(CodeUnknownBatch, "targets names batch %q, which is not in this account's plan", Echo(k))
		}
		if err := o.Targets[k].Validate(); err != nil {
			return err
		}
	}
	return nil
}

// targetsSelected refuses targets for batches that batchKeys leaves out: they
// would be silently ignored.
func (o *OpsInstructions) targetsSelected(batchKeys []string) error {
	if len(batchKeys) == 0 {
		return nil
	}
	in := make(map[string]bool, len(batchKeys))
	for _, k := range batchKeys {
		in[k] = true
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(o.Targets)) {
		if !in[k] {
			out = append(out, k)
		}
	}
	if len(out) > 0 {
		return Errorf(CodeInvalidInput, "targets names batches that batchKeys does not select: %s", strings.Join(out, ", "))
	}
	return nil
}

// StartResult is what POST /v1/migrations answers.
type StartResult struct {
	Migration Migration
	Batches   []Batch
	Created   bool
}

// Start is the developer's "发起迁移": begin the migration and start the
// execution that drives it. An account has at most one active migration; asking
// again returns it.
func (s *DeveloperActions) Start(ctx context.Context, src AccountRef, batchKeys []string) (StartResult, error) {
	id, err := s.startID(ctx, src)
	if err != nil {
		return StartResult{}, err
	}
	res, err := s.steps().Begin(ctx, BeginInput{MigrationID: id, Source: src, RequestedBy: "developer:" + src.String(), BatchKeys: batchKeys, StartsExecution: true})
	if err != nil {
		return StartResult{}, err
	}
	created := res.ActiveMigrationID == "" && !res.Resumed
	id = res.MigrationID
	if res.ActiveMigrationID != "" {
		id = res.ActiveMigrationID
		if done, err := s.releaseIfDone(ctx, src, id); err != nil {
			return StartResult{}, err
		} else if done {
			return s.Start(ctx, src, batchKeys)
		}
	}
	// An account that needs no migration (rule 1) still gets its answer as a
	// migration in state NO_MIGRATION_NEEDED; its execution ends at once.
	m, err := s.awaitMigration(ctx, id)
	if err != nil {
		return StartResult{}, err
	}
	if m.ExecutionArn == "" {
		// Also repairs a migration whose first start died before the execution began:
		// the execution name is the migration id, so this starts it at most once.
		arn, err := s.Starter.StartExecution(ctx, m.MigrationID, map[string]any{"source": m.Source, "requestedBy": m.RequestedBy})
		if err != nil {
			return StartResult{}, &Error{Code: CodeUnavailable, Message: "the workflow could not be started; try again", Err: err}
		}
		if err := s.Store.SetExecutionArn(ctx, m.MigrationID, arn); err != nil {
			return StartResult{}, err
		}
		m.ExecutionArn = arn
	}
	batches, err := s.Store.Batches(ctx, id)
	if err != nil {
		return StartResult{}, err
	}
	return StartResult{Migration: m, Batches: batches, Created: created}, nil
}

// startID is the id of a developer's new migration: fresh for an account with
// something to migrate; for one that needs none, the same id every time, so
// asking again answers with that migration instead of a new execution each
// time (Begin is idempotent per id).
func (s *DeveloperActions) startID(ctx context.Context, src AccountRef) (string, error) {
	eligible, err := s.reads().eligible(ctx, SourceHolder(SourcePlatform(src.Platform), src.ID))
	if err != nil || eligible {
		return NewMigrationID(), err
	}
	return NoMigrationID(src), nil
}

// NoMigrationID is the one migration id of src's "no migration needed" answer.
func NoMigrationID(src AccountRef) string {
	sum := sha256.Sum256([]byte(src.String()))
	return "m-none-" + hex.EncodeToString(sum[:10])
}

// awaitMigration reads a migration that a concurrent Start may have claimed
// but not yet written (two clicks at once): it waits a bounded moment for it.
func (s *DeveloperActions) awaitMigration(ctx context.Context, id string) (Migration, error) {
	for attempt := 0; ; attempt++ {
		m, err := s.Store.Migration(ctx, id)
		if !IsCode(err, CodeNotFound) || attempt >= 50 {
			return m, err
		}
		select {
		case <-ctx.Done():
			return Migration{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// releaseIfDone frees the account's claim when its active migration has in
// fact ended (its summary step has not run yet, or died).
func (s *DeveloperActions) releaseIfDone(ctx context.Context, src AccountRef, id string) (bool, error) {
	m, err := s.Store.Migration(ctx, id)
	if IsCode(err, CodeNotFound) {
		return false, nil // claimed a moment ago by a migration still being created
	} else if err != nil {
		return false, err
	}
	batches, err := s.Store.Batches(ctx, id)
	if err != nil {
		return false, err
	}
	if DeriveMigrationState(m.Eligible, states(batches)) == MigrationInProgress {
		return false, nil
	}
	return true, s.Store.ReleaseActive(ctx, src, id)
}

func states(bs []Batch) []BatchState {
	out := make([]BatchState, len(bs))
	for i, b := range bs {
		out[i] = b.State
	}
	return out
}

// Batches lists a migration's batches (the workflow's split) with what is left
// of their one deadline for the first wait on the developer.
func (s *WorkflowSteps) Batches(ctx context.Context, migrationID string) ([]Batch, WaitDeadline, error) {
	batches, err := s.Store.Batches(ctx, migrationID)
	if err != nil || len(batches) == 0 {
		return batches, WaitDeadlineUntil(s.now().Add(s.pending()), s.now()), err
	}
	return batches, s.waitDeadline(batches[0]), nil
}
