package migration

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"
)

// Migrator holds the use cases. The HTTP edge and the workflow steps both call
// these methods, so every rule runs the same way whichever path a user takes.
type Migrator struct {
	Store   Store
	Signal  Signaller
	Starter Starter // only the HTTP path starts executions
	Now     func() time.Time
	// CommitOverdue is how long a batch may sit in COMMITTING before the
	// reconciliation check reports it.
	CommitOverdue time.Duration
	// ChunkSize is how many items one TransactWriteItems moves; one action is
	// kept for the batch's progress counter (limit: 100 actions).
	ChunkSize int
	// PendingTimeout is how long after its creation a batch that has not
	// passed the point of no return expires (rule 13): one deadline for all
	// of its waits on the developer. 30 days when zero.
	PendingTimeout time.Duration
}

// DefaultPendingTimeout is rule 13's 30 days.
const DefaultPendingTimeout = 30 * 24 * time.Hour

func (s *Migrator) pending() time.Duration {
	if s.PendingTimeout > 0 {
		return s.PendingTimeout
	}
	return DefaultPendingTimeout
}

// waitDeadline is what is left of the batch's deadline for the workflow's
// next wait on the developer.
func (s *Migrator) waitDeadline(b Batch) WaitDeadline {
	return WaitDeadlineUntil(b.Deadline(s.pending()), s.now())
}

// pastDeadline ends a batch whose deadline has passed while it still waits
// on the developer, and refuses the action that found it: the workflow's own
// wait ends at the same deadline, this closes the gap of a late click.
func (s *Migrator) pastDeadline(ctx context.Context, b Batch) error {
	if !b.State.WaitingOnDeveloper() || s.now().Before(b.Deadline(s.pending())) {
		return nil
	}
	if _, err := s.Expire(ctx, b.MigrationID, b.BatchID); err != nil && !IsCode(err, CodeWrongStep) {
		return err
	}
	return Errorf(CodeExpired, "the batch expired at %s; start the migration again", b.Deadline(s.pending()).Format(time.RFC3339))
}

func (s *Migrator) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Migrator) stamp() string { return Stamp(s.now()) }

// NewMigrationID returns a fresh id, also usable as an execution name.
func NewMigrationID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return "m-" + hex.EncodeToString(b[:])
}

// BatchID is derived from the migration and batch key, so creating a
// migration's batches again (a retried step) yields the same ids.
func BatchID(migrationID, batchKey string) string {
	sum := sha256.Sum256([]byte(migrationID + "\x00" + batchKey))
	return "b-" + hex.EncodeToString(sum[:8])
}

// ---- Reading what an account holds -------------------------------------------

// AssetsPage is one page of an account's old-platform assets (GET /v1/assets).
type AssetsPage struct {
	Account    Account
	Subjects   []Subject
	Items      []Item
	Eligible   bool
	NextCursor string
}

// Assets lists one page of what the account holds, role scope applied by Place.
func (s *Migrator) Assets(ctx context.Context, src AccountRef, cursor string, limit int) (AssetsPage, error) {
	acct, err := s.Store.SourceAccount(ctx, src)
	if err != nil {
		return AssetsPage{}, err
	}
	holder := SourceHolder(SourcePlatform(src.Platform), src.ID)
	items, next, err := s.Store.HeldItems(ctx, holder, "", cursor, limit)
	if err != nil {
		return AssetsPage{}, err
	}
	eligible, err := s.eligible(ctx, holder)
	if err != nil {
		return AssetsPage{}, err
	}
	if err := s.link(ctx, items); err != nil {
		return AssetsPage{}, err
	}
	page := AssetsPage{Account: acct, Items: items, Eligible: eligible, NextCursor: next}
	seen := map[string]bool{}
	addSubject := func(id string) error {
		if id == "" || id == PersonalSubject || seen[id] {
			return nil
		}
		seen[id] = true
		sub, err := s.Store.Subject(ctx, id)
		if err != nil {
			return err
		}
		page.Subjects = append(page.Subjects, sub)
		return nil
	}
	if err := addSubject(acct.SubjectID); err != nil {
		return AssetsPage{}, err
	}
	for _, it := range items {
		if err := addSubject(it.SubjectID); err != nil {
			return AssetsPage{}, err
		}
	}
	return page, nil
}

// eligible says whether holder has anything to migrate (rule 1) without
// reading everything it holds: the store orders a holder's items by batch key
// and files skipped ones last, so the first item decides.
func (s *Migrator) eligible(ctx context.Context, holder string) (bool, error) {
	first, _, err := s.Store.HeldItems(ctx, holder, "", "", 1)
	if err != nil {
		return false, err
	}
	return len(first) > 0 && first[0].Skip == "" && first[0].BatchKey != "", nil
}

// Plan is the account's split into batches, from what it still holds.
func (s *Migrator) Plan(ctx context.Context, src AccountRef) (Plan, error) {
	if _, err := s.Store.SourceAccount(ctx, src); err != nil {
		return Plan{}, err
	}
	holder := SourceHolder(SourcePlatform(src.Platform), src.ID)
	held, err := collect(ctx, func(c string) ([]Item, string, error) { return s.Store.HeldItems(ctx, holder, "", c, 1000) })
	if err != nil {
		return Plan{}, err
	}
	followers, err := collect(ctx, func(c string) ([]Item, string, error) { return s.Store.Followers(ctx, holder, "", c, 1000) })
	if err != nil {
		return Plan{}, err
	}
	return Tally(held, followers), nil
}

func collect(ctx context.Context, page func(cursor string) ([]Item, string, error)) ([]Item, error) {
	var all []Item
	cursor := ""
	for {
		items, next, err := page(cursor)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == "" {
			return all, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		cursor = next
	}
}

// ---- Starting a migration ----------------------------------------------------

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
func (s *Migrator) Begin(ctx context.Context, in BeginInput) (BeginResult, error) {
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
		return BeginResult{MigrationID: m.MigrationID, Eligible: m.Eligible, BatchIDs: m.BatchIDs, Resumed: true}, nil
	} else if !IsCode(err, CodeNotFound) {
		return BeginResult{}, err
	}
	plan, err := s.Plan(ctx, in.Source)
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
	active, err := s.Store.ClaimActive(ctx, in.Source, in.MigrationID)
	if err != nil {
		return BeginResult{}, err
	}
	if active != in.MigrationID {
		return BeginResult{MigrationID: in.MigrationID, ActiveMigrationID: active}, nil
	}
	at := s.stamp()
	expiresAt := s.now().Add(s.pending()).Format(time.RFC3339)
	m := Migration{MigrationID: in.MigrationID, Source: in.Source, Login: acct.Login, RequestedBy: in.RequestedBy,
		Eligible: plan.Eligible, BatchKeys: in.BatchKeys, Ops: in.Ops, CreatedAt: at, StartsExecution: in.StartsExecution}
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
	if err := s.Store.CreateMigration(ctx, m, batches, ev); err != nil {
		// The claim must not outlive a migration that was never written (the
		// account would be turned away for good); but a write whose answer was
		// lost did happen, and then the claim stays with it.
		if _, gerr := s.Store.Migration(ctx, in.MigrationID); IsCode(gerr, CodeNotFound) {
			if rerr := s.Store.ReleaseActive(ctx, in.Source, in.MigrationID); rerr != nil {
				slog.WarnContext(ctx, "release claim after failed create", "migrationId", in.MigrationID, "error", rerr)
			}
		}
		return BeginResult{}, err
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
			return Errorf(CodeUnknownBatch, "targets names batch %q, which is not in this account's plan", k)
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
func (s *Migrator) Start(ctx context.Context, src AccountRef, batchKeys []string) (StartResult, error) {
	id, err := s.startID(ctx, src)
	if err != nil {
		return StartResult{}, err
	}
	res, err := s.Begin(ctx, BeginInput{MigrationID: id, Source: src, RequestedBy: "developer:" + src.String(), BatchKeys: batchKeys, StartsExecution: true})
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
func (s *Migrator) startID(ctx context.Context, src AccountRef) (string, error) {
	eligible, err := s.eligible(ctx, SourceHolder(SourcePlatform(src.Platform), src.ID))
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
func (s *Migrator) awaitMigration(ctx context.Context, id string) (Migration, error) {
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
func (s *Migrator) releaseIfDone(ctx context.Context, src AccountRef, id string) (bool, error) {
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

// ---- Viewing a migration -----------------------------------------------------

// OwnMigration returns the migration and its batches when it is the caller's;
// another account's migration is reported as not found.
func (s *Migrator) OwnMigration(ctx context.Context, src AccountRef, migrationID string) (Migration, []Batch, error) {
	m, err := s.Store.Migration(ctx, migrationID)
	if err != nil {
		return Migration{}, nil, err
	}
	if m.Source != src {
		return Migration{}, nil, Errorf(CodeNotFound, "no migration %s", migrationID)
	}
	batches, err := s.Store.Batches(ctx, migrationID)
	return m, batches, err
}

// OwnBatch returns a batch of one of the caller's migrations.
func (s *Migrator) OwnBatch(ctx context.Context, src AccountRef, migrationID, batchID string) (Batch, error) {
	b, err := s.Store.Batch(ctx, migrationID, batchID)
	if err != nil {
		return Batch{}, err
	}
	if b.Source != src {
		return Batch{}, Errorf(CodeNotFound, "no batch %s in migration %s", batchID, migrationID)
	}
	return b, nil
}

// Batches lists a migration's batches (the workflow's split) with what is left
// of their one deadline for the first wait on the developer.
func (s *Migrator) Batches(ctx context.Context, migrationID string) ([]Batch, WaitDeadline, error) {
	batches, err := s.Store.Batches(ctx, migrationID)
	if err != nil || len(batches) == 0 {
		return batches, WaitDeadlineUntil(s.now().Add(s.pending()), s.now()), err
	}
	return batches, s.waitDeadline(batches[0]), nil
}

// drivenBatch is OwnBatch for the steps that change a batch (accept, target,
// confirm): they need the migration's execution, which waits on each step and
// moves the assets after the confirmation. A migration whose execution did not
// start (StartExecution failed after its batches were written) refuses them
// until a new POST /v1/migrations starts it, so nothing is ever confirmed
// with no workflow to move it.
func (s *Migrator) drivenBatch(ctx context.Context, src AccountRef, migrationID, batchID string) (Batch, error) {
	b, err := s.OwnBatch(ctx, src, migrationID, batchID)
	if err != nil {
		return Batch{}, err
	}
	m, err := s.Store.Migration(ctx, migrationID)
	if err != nil {
		return Batch{}, err
	}
	if m.StartsExecution && m.ExecutionArn == "" {
		return Batch{}, Errorf(CodeWorkflowNotStarted, "migration %s has no running workflow yet; POST /v1/migrations again to start it", migrationID)
	}
	return b, nil
}

// State of a migration, derived from its batches.
func (s *Migrator) State(m Migration, batches []Batch) MigrationState {
	return DeriveMigrationState(m.Eligible, states(batches))
}

// Review is one page of what a batch moves (rule 7).
type Review struct {
	Batch      Batch
	Account    Account
	Subject    *Subject
	Items      []Item // what moves: apps, services, identities, own relations, data, orders
	Followers  []Item // relations on the batch's apps: they follow the apps
	NextCursor string
}

// ReviewBatch pages through what the batch moves. The cursor pages the moving
// items first, then the followers.
func (s *Migrator) ReviewBatch(ctx context.Context, src AccountRef, migrationID, batchID, cursor string, limit int) (Review, error) {
	b, err := s.OwnBatch(ctx, src, migrationID, batchID)
	if err != nil {
		return Review{}, err
	}
	acct, err := s.Store.SourceAccount(ctx, src)
	if err != nil {
		return Review{}, err
	}
	r := Review{Batch: b, Account: acct}
	if b.SubjectID != PersonalSubject {
		sub, err := s.Store.Subject(ctx, b.SubjectID)
		if err != nil {
			return Review{}, err
		}
		r.Subject = &sub
	}
	followersCursor, itemsCursor, inFollowers := splitCursor(cursor)
	if !inFollowers {
		// Before the commit the items are held by the source; after it, by the
		// target, which may hold items of the same batch key that another
		// migration moved: only this batch's are listed.
		page := func() ([]Item, string, error) {
			return s.Store.HeldItems(ctx, b.SourceHolder(), b.BatchKey, itemsCursor, limit)
		}
		if b.State.PastPointOfNoReturn() {
			page = func() ([]Item, string, error) {
				return s.Store.MovedItems(ctx, b.TargetHolder(), b.BatchKey, b.BatchID, itemsCursor, limit)
			}
		}
		items, next, err := page()
		if err != nil {
			return Review{}, err
		}
		r.Items = items
		if next != "" {
			r.NextCursor = "i:" + next
			return r, nil
		}
	}
	fol, next, err := s.Store.Followers(ctx, b.SourceHolder(), b.BatchKey, followersCursor, limit)
	if err != nil {
		return Review{}, err
	}
	r.Followers = fol
	if next != "" {
		r.NextCursor = "f:" + next
	}
	return r, nil
}

func splitCursor(c string) (followers, items string, inFollowers bool) {
	switch {
	case len(c) > 2 && c[:2] == "f:":
		return c[2:], "", true
	case len(c) > 2 && c[:2] == "i:":
		return "", c[2:], false
	}
	return "", "", false
}

// ---- Agreement (rule 6) -----------------------------------------------------------

// ViewAgreement returns the agreement and records that the caller viewed it.
func (s *Migrator) ViewAgreement(ctx context.Context, src AccountRef, meta RequestMeta) (Agreement, error) {
	if _, err := s.Store.SourceAccount(ctx, src); err != nil {
		return Agreement{}, err
	}
	a := CurrentAgreement()
	ev := AuditEvent{At: s.stamp(), Event: EventAgreementViewed, Account: src.String(), Actor: src.String(),
		Detail: map[string]any{"version": a.Version, "sha256": a.SHA256, "sourceIp": meta.SourceIP, "userAgent": meta.UserAgent}}
	return a, s.Store.RecordView(ctx, src, a, ev)
}

// RequestMeta is where a developer's request came from.
type RequestMeta struct {
	SourceIP  string
	UserAgent string
}

// AcceptAgreement records the developer's acceptance of the agreement they viewed.
func (s *Migrator) AcceptAgreement(ctx context.Context, src AccountRef, migrationID, batchID, version, sha string, meta RequestMeta) (Batch, error) {
	b, err := s.drivenBatch(ctx, src, migrationID, batchID)
	if err != nil {
		return Batch{}, err
	}
	if b.Agreement != nil && b.Agreement.Version == version && b.Agreement.SHA256 == sha && StepAgreement.Done(b.State) {
		return b, nil // accepted already: answering again changes nothing
	}
	viewed, err := s.Store.HasViewed(ctx, src, version, sha)
	if err != nil {
		return Batch{}, err
	}
	if !viewed {
		if err := CheckAcceptance(version, sha); err != nil {
			return Batch{}, err
		}
		return Batch{}, Errorf(CodeAgreementNotViewed, "view the agreement (GET /v1/agreement) before accepting it")
	}
	if err := CheckAcceptance(version, sha); err != nil {
		return Batch{}, err
	}
	acc := &Acceptance{Version: version, SHA256: sha, AcceptedBy: src.String(), AcceptedAt: s.stamp(),
		SourceIP: meta.SourceIP, UserAgent: meta.UserAgent, Channel: "developer"}
	nb, err := s.advance(ctx, b, StepAgreement, Transition{Agreement: acc})
	if IsCode(err, CodeWrongStep) {
		// Two clicks at once: the other one recorded the same acceptance.
		cur, rerr := s.Store.Batch(ctx, migrationID, batchID)
		if rerr != nil {
			return Batch{}, rerr // unknown whether the other one did: try again, not WRONG_STEP
		}
		if cur.Agreement != nil && cur.Agreement.Version == version && cur.Agreement.SHA256 == sha && StepAgreement.Done(cur.State) {
			return cur, nil
		}
	}
	return nb, err
}

// acceptByOps applies an agreement pre-recorded in the execution input. It
// records the version with that version's own hash (taken when the input was
// checked); a version no longer in force is not applied: the developer
// accepts the one in force. An acceptance that got there first (the
// developer's own) is a success: the batch is past the step, recorded once.
func (s *Migrator) acceptByOps(ctx context.Context, b Batch, m Migration) (Batch, error) {
	oa := *m.Ops.Agreement
	if oa.SHA256 == "" && oa.Version == CurrentAgreement().Version {
		oa.SHA256 = CurrentAgreement().SHA256 // recorded before the hash was kept; one version, one text
	}
	if err := CheckAcceptance(oa.Version, oa.SHA256); err != nil {
		slog.WarnContext(ctx, "ops agreement not applied", "migrationId", b.MigrationID, "batchId", b.BatchID, "version", oa.Version, "error", err)
		return b, nil
	}
	acc := &Acceptance{Version: oa.Version, SHA256: oa.SHA256, AcceptedBy: oa.AcceptedBy,
		AcceptedAt: s.stamp(), Evidence: oa.Evidence, Channel: "ops:" + m.RequestedBy}
	nb, err := s.advance(ctx, b, StepAgreement, Transition{Agreement: acc})
	if IsCode(err, CodeWrongStep) {
		cur, rerr := s.Store.Batch(ctx, b.MigrationID, b.BatchID)
		if rerr != nil {
			return Batch{}, rerr // a failed re-read is no WRONG_STEP: the wait retries it
		}
		if cur.Agreement != nil && StepAgreement.Done(cur.State) {
			return cur, nil
		}
	}
	return nb, err
}

// advance moves a batch past a step and wakes the workflow's wait for it.
func (s *Migrator) advance(ctx context.Context, b Batch, step Step, t Transition) (Batch, error) {
	next := map[Step]BatchState{StepAgreement: AwaitingTarget, StepTarget: AwaitingConfirmation}[step]
	t.MigrationID, t.BatchID = b.MigrationID, b.BatchID
	t.From, t.To = []BatchState{step.WaitState()}, next
	if step == StepTarget {
		// The target may be changed until the batch is confirmed.
		t.From = []BatchState{AwaitingTarget, AwaitingConfirmation}
	}
	if err := s.pastDeadline(ctx, b); err != nil {
		return Batch{}, err
	}
	event := map[Step]string{StepAgreement: EventAgreementAccepted, StepTarget: EventTargetSelected}[step]
	t.Audit = AuditEvent{At: s.stamp(), Event: event, Account: b.Source.String(), MigrationID: b.MigrationID, BatchID: b.BatchID,
		BatchKey: b.BatchKey, From: b.State, To: next, Agreement: t.Agreement, Target: t.Target}
	if t.Agreement != nil {
		t.Audit.Actor = t.Agreement.AcceptedBy
	}
	if _, err := s.Store.Transition(ctx, t); err != nil {
		return Batch{}, err
	}
	return s.wake(ctx, b.MigrationID, b.BatchID, step)
}

// wake re-reads the batch and ends the workflow's parked wait for step, if one
// is parked. The wait may also find the batch past the step itself and end at
// once; between the two, every wait ends exactly when its step is done.
func (s *Migrator) wake(ctx context.Context, migrationID, batchID string, step Step) (Batch, error) {
	b, err := s.Store.Batch(ctx, migrationID, batchID)
	if err != nil {
		return Batch{}, err
	}
	if tok := b.Tokens[step]; tok != "" && s.Signal != nil {
		if err := s.Signal.Succeed(ctx, tok, s.waitDeadline(b)); err != nil {
			// A token of a wait that already ended: nothing waits on it any more.
			slog.WarnContext(ctx, "signal parked wait", "migrationId", migrationID, "batchId", batchID, "step", string(step), "error", err)
		}
	}
	return b, nil
}

// ---- Target (rule 8) ------------------------------------------------------------

// Candidates lists the caller's existing accounts that may receive the batch.
func (s *Migrator) Candidates(ctx context.Context, src AccountRef, migrationID, batchID string) ([]TargetAccount, Batch, error) {
	b, err := s.OwnBatch(ctx, src, migrationID, batchID)
	if err != nil {
		return nil, Batch{}, err
	}
	all, err := s.Store.TargetCandidates(ctx, b.TargetPlatform, b.Login)
	if err != nil {
		return nil, Batch{}, err
	}
	out := all[:0]
	for _, t := range all {
		if CheckTarget(t, b.Login, b.TargetPlatform, b.SubjectID) == nil {
			out = append(out, t)
		}
	}
	return out, b, nil
}

// SelectTarget records the developer's target choice.
func (s *Migrator) SelectTarget(ctx context.Context, src AccountRef, migrationID, batchID string, t Target) (Batch, error) {
	b, err := s.drivenBatch(ctx, src, migrationID, batchID)
	if err != nil {
		return Batch{}, err
	}
	return s.selectTarget(ctx, b, t)
}

func (s *Migrator) selectTarget(ctx context.Context, b Batch, t Target) (Batch, error) {
	if err := t.Validate(); err != nil {
		return Batch{}, err
	}
	if b.State == AwaitingAgreement {
		return Batch{}, Errorf(CodeAgreementRequired, "accept the agreement before choosing a target")
	}
	if b.State != AwaitingTarget && b.State != AwaitingConfirmation {
		return Batch{}, Errorf(CodeWrongStep, "batch is %s", b.State)
	}
	if t.Mode == TargetModeExisting {
		acct, err := s.Store.TargetAccount(ctx, b.TargetPlatform, t.AccountID)
		if IsCode(err, CodeNotFound) {
			return Batch{}, Errorf(CodeTargetNotEligible, "account %s is not one of your accounts on %s", t.AccountID, b.TargetPlatform)
		} else if err != nil {
			return Batch{}, err
		}
		if err := CheckTarget(acct, b.Login, b.TargetPlatform, b.SubjectID); err != nil {
			return Batch{}, err
		}
	}
	tt := t
	b.Target = &tt
	return s.advance(ctx, b, StepTarget, Transition{Target: &tt, TargetAccountID: b.ResolveTargetAccountID()})
}

// ---- Confirm: the point of no return (rules 9 and 12) ------------------------------

// Confirm is the developer's irreversible confirmation. Confirming a batch that
// is already past the point of no return answers with it, unchanged.
func (s *Migrator) Confirm(ctx context.Context, src AccountRef, migrationID, batchID string) (Batch, error) {
	b, err := s.drivenBatch(ctx, src, migrationID, batchID)
	if err != nil {
		return Batch{}, err
	}
	return s.confirm(ctx, b, src.String())
}

func (s *Migrator) confirm(ctx context.Context, b Batch, actor string) (Batch, error) {
	switch {
	case b.State.PastPointOfNoReturn():
		return b, nil
	case b.State == AwaitingAgreement:
		return Batch{}, Errorf(CodeWrongStep, "accept the agreement and choose a target before confirming")
	case b.State == AwaitingTarget:
		return Batch{}, Errorf(CodeWrongStep, "choose a target before confirming")
	case b.State != AwaitingConfirmation:
		return Batch{}, Errorf(CodeWrongStep, "batch is %s", b.State)
	}
	if err := s.pastDeadline(ctx, b); err != nil {
		return Batch{}, err
	}
	c := CommitStart{Batch: b, Deadline: s.now().Add(s.commitOverdue()),
		Audit: AuditEvent{At: s.stamp(), Event: EventCommitStarted, Account: b.Source.String(), MigrationID: b.MigrationID,
			BatchID: b.BatchID, BatchKey: b.BatchKey, From: AwaitingConfirmation, To: Committing, Actor: actor, Target: b.Target,
			Detail: map[string]any{"targetAccountId": b.TargetAccountID, "total": b.Total}}}
	if b.TargetPlatform == TargetDeveloper {
		// The store counts the mini-programs it finds still held by the
		// source, with the subject's existing holdings, against this limit.
		c.QuotaLimit = MiniProgramQuota(b.SubjectKind)
	}
	bind, err := s.bindable(ctx, b.SubjectID)
	if err != nil {
		return Batch{}, err
	}
	c.BindSubject = bind
	if b.Target != nil && b.Target.Mode == TargetModeNew {
		c.NewAccount = &TargetAccount{Platform: b.TargetPlatform, ID: b.TargetAccountID, Login: b.Login, Onboarding: OnboardingCompleted, SubjectID: bind}
	}
	err = s.Store.PassPointOfNoReturn(ctx, c)
	switch {
	case err == nil:
	case IsCode(err, CodeTargetNotEligible):
		return s.retarget(ctx, b, err)
	case IsCode(err, CodeQuotaExceeded), IsCode(err, CodeNothingToMove), IsCode(err, CodeWrongStep):
		cur, rerr := s.Store.Batch(ctx, b.MigrationID, b.BatchID)
		if rerr == nil && cur.State.PastPointOfNoReturn() {
			return cur, nil // a second click, or a retry: the first one passed
		}
		if IsCode(err, CodeWrongStep) {
			return Batch{}, err
		}
		return s.refuse(ctx, b, err)
	default:
		return Batch{}, err
	}
	return s.wake(ctx, b.MigrationID, b.BatchID, StepConfirmation)
}

// bindable is the subject a commit binds to its target account: none for a
// personal batch or a subject that is not certified (CONTRACT.md §4).
func (s *Migrator) bindable(ctx context.Context, subjectID string) (string, error) {
	if subjectID == "" || subjectID == PersonalSubject {
		return "", nil
	}
	sub, err := s.Store.Subject(ctx, subjectID)
	if err != nil {
		return "", err
	}
	if !sub.Certified {
		return "", nil
	}
	return subjectID, nil
}

// retarget sends a batch whose target was taken at the point of no return (a
// sibling bound the account to another subject first) back to
// AWAITING_TARGET, nothing moved, the reason on the batch; a parked wait for
// its confirmation ends with TargetTaken so the workflow waits for a target
// again. The caller still gets the refusal.
func (s *Migrator) retarget(ctx context.Context, b Batch, cause error) (Batch, error) {
	var ce *Error
	if !errors.As(cause, &ce) {
		return Batch{}, cause
	}
	be := &BatchError{Code: ce.Code, Message: ce.Message}
	t := Transition{MigrationID: b.MigrationID, BatchID: b.BatchID, From: []BatchState{AwaitingConfirmation}, To: AwaitingTarget,
		LastRefusal: be, ClearTarget: b.TargetAccountID,
		Audit: AuditEvent{At: s.stamp(), Event: EventTargetRefused, Account: b.Source.String(), MigrationID: b.MigrationID,
			BatchID: b.BatchID, BatchKey: b.BatchKey, From: AwaitingConfirmation, To: AwaitingTarget, Target: b.Target, Error: be}}
	if _, err := s.Store.Transition(ctx, t); err != nil && !IsCode(err, CodeWrongStep) {
		return Batch{}, err
	}
	cur, err := s.Store.Batch(ctx, b.MigrationID, b.BatchID)
	if err != nil {
		return Batch{}, err
	}
	if cur.State.PastPointOfNoReturn() {
		return cur, nil // another click passed first; this one read the account after
	}
	if tok := cur.Tokens[StepConfirmation]; tok != "" && cur.State == AwaitingTarget && s.Signal != nil {
		if err := s.Signal.Fail(ctx, tok, TargetTakenErrorType, s.targetTakenCause(cur)); err != nil {
			slog.WarnContext(ctx, "signal parked wait", "migrationId", b.MigrationID, "batchId", b.BatchID, "error", err)
		}
	}
	return Batch{}, cause
}

func (s *Migrator) commitOverdue() time.Duration {
	if s.CommitOverdue > 0 {
		return s.CommitOverdue
	}
	return time.Hour
}

// refuse ends a batch that a rule forbids committing: FAILED with the code,
// nothing moved. The workflow's wait for confirmation ends with the failure.
func (s *Migrator) refuse(ctx context.Context, b Batch, cause error) (Batch, error) {
	var ce *Error
	if !errors.As(cause, &ce) {
		return Batch{}, cause
	}
	if _, err := s.Fail(ctx, b.MigrationID, b.BatchID, ce.Code, ce.Message); err != nil && !IsCode(err, CodeWrongStep) {
		return Batch{}, err
	}
	return Batch{}, cause
}

// Fail ends a batch that has not passed the point of no return as FAILED.
func (s *Migrator) Fail(ctx context.Context, migrationID, batchID string, code Code, message string) (Batch, error) {
	return s.end(ctx, migrationID, batchID, Failed, EventBatchFailed, &BatchError{Code: code, Message: message})
}

// Expire ends a batch that waited too long on the developer (rule 13).
func (s *Migrator) Expire(ctx context.Context, migrationID, batchID string) (Batch, error) {
	return s.end(ctx, migrationID, batchID, Expired, EventBatchExpired, &BatchError{Code: CodeExpired, Message: "the batch waited on the developer longer than allowed; start again"})
}

func (s *Migrator) end(ctx context.Context, migrationID, batchID string, to BatchState, event string, be *BatchError) (Batch, error) {
	b, err := s.Store.Batch(ctx, migrationID, batchID)
	if err != nil {
		return Batch{}, err
	}
	if b.State == to {
		return b, nil
	}
	t := Transition{MigrationID: migrationID, BatchID: batchID, From: []BatchState{AwaitingAgreement, AwaitingTarget, AwaitingConfirmation},
		To: to, Error: be, Audit: AuditEvent{At: s.stamp(), Event: event, Account: b.Source.String(), MigrationID: migrationID,
			BatchID: batchID, BatchKey: b.BatchKey, From: b.State, To: to, Error: be}}
	if _, err := s.Store.Transition(ctx, t); err != nil {
		return Batch{}, err
	}
	b, err = s.Store.Batch(ctx, migrationID, batchID)
	if err != nil {
		return Batch{}, err
	}
	// Any wait still parked ends with the failure, so the workflow moves on.
	for _, tok := range b.Tokens {
		if tok != "" && s.Signal != nil {
			_ = s.Signal.Fail(ctx, tok, BatchClosedErrorType, string(be.Code))
		}
	}
	return b, nil
}

// Stall records why a batch past the point of no return could not be moved
// (the workflow's retries are spent). The batch stays COMMITTING, since the
// move only goes forward, and carries the error until ops resume it
// (opsctl resume runs Move again); its siblings go on meanwhile.
func (s *Migrator) Stall(ctx context.Context, migrationID, batchID string, code Code, message string) (Batch, error) {
	b, err := s.Store.Batch(ctx, migrationID, batchID)
	if err != nil {
		return Batch{}, err
	}
	if b.State != Committing {
		return b, nil // it finished meanwhile (another mover), or never started
	}
	be := &BatchError{Code: code, Message: message}
	t := Transition{MigrationID: migrationID, BatchID: batchID, From: []BatchState{Committing}, To: Committing, Error: be,
		Audit: AuditEvent{At: s.stamp(), Event: EventBatchStalled, Account: b.Source.String(), MigrationID: migrationID,
			BatchID: batchID, BatchKey: b.BatchKey, From: Committing, To: Committing, Error: be}}
	nb, err := s.Store.Transition(ctx, t)
	if IsCode(err, CodeWrongStep) {
		return nb, nil
	}
	return nb, err
}

// BatchClosedErrorType is the error the workflow sees when a batch it waits on
// has ended without committing.
const BatchClosedErrorType = "BatchClosed"

// TargetTakenErrorType is the error the workflow's confirmation wait sees
// when the batch went back to AWAITING_TARGET (its target was taken at the
// point of no return): the workflow waits for a target again.
const TargetTakenErrorType = "TargetTaken"

// targetTakenCause is the cause of a TargetTaken failure: the deadline of the
// target wait the workflow goes back to (it reads it as JSON), so the batch's
// one deadline holds on that path too.
func (s *Migrator) targetTakenCause(b Batch) string {
	out, _ := json.Marshal(s.waitDeadline(b))
	return string(out)
}

// ---- Workflow waits -----------------------------------------------------------------

// Await parks the workflow's wait for a step. First it applies what ops
// pre-recorded for the step; then, if the batch is already past the step, the
// wait ends at once; if the batch has ended, it fails.
func (s *Migrator) Await(ctx context.Context, migrationID, batchID string, step Step, token string) (Batch, error) {
	b, err := s.Store.Batch(ctx, migrationID, batchID)
	if err != nil {
		return Batch{}, err
	}
	if b.State == step.WaitState() {
		m, err := s.Store.Migration(ctx, migrationID)
		if err != nil {
			return Batch{}, err
		}
		if b, err = s.applyOps(ctx, m, b, step); err != nil {
			return Batch{}, err
		}
	}
	if step.Done(b.State) {
		// Ops input (or a quick developer) already took the batch past the
		// step: end the wait at once, without parking a token nobody will use.
		return b, s.Signal.Succeed(ctx, token, s.waitDeadline(b))
	}
	b, parked, err := s.Store.ParkToken(ctx, migrationID, batchID, step, token)
	// A batch can leave the wait state and come back to it between the park
	// and the read after it (a taken target sends it back to AWAITING_TARGET,
	// and a new choice brings it to AWAITING_CONFIRMATION again): park again.
	for attempt := 0; err == nil && !parked && b.State == step.WaitState() && attempt < 3; attempt++ {
		b, parked, err = s.Store.ParkToken(ctx, migrationID, batchID, step, token)
	}
	if err != nil || parked {
		return b, err
	}
	switch {
	case step == StepConfirmation && b.State == AwaitingTarget:
		return b, s.Signal.Fail(ctx, token, TargetTakenErrorType, s.targetTakenCause(b))
	case step.Done(b.State):
		return b, s.Signal.Succeed(ctx, token, s.waitDeadline(b))
	case b.State.Final():
		code := ""
		if b.Error != nil {
			code = string(b.Error.Code)
		}
		return b, s.Signal.Fail(ctx, token, BatchClosedErrorType, code)
	}
	return b, Errorf(CodeWrongStep, "batch is %s, not waiting for %s", b.State, step)
}

func (s *Migrator) applyOps(ctx context.Context, m Migration, b Batch, step Step) (Batch, error) {
	if m.Ops == nil {
		return b, nil
	}
	switch {
	case step == StepAgreement && m.Ops.Agreement != nil:
		return s.acceptByOps(ctx, b, m)
	case step == StepTarget:
		// Ops targets apply once: a target taken at the point of no return
		// is the developer's choice to make again.
		if t, ok := m.Ops.Targets[b.BatchKey]; ok && b.LastRefusal == nil {
			nb, err := s.selectTarget(ctx, b, t)
			if IsCode(err, CodeTargetNotEligible) {
				return s.refuse(ctx, b, err)
			}
			return nb, err
		}
	case step == StepConfirmation && m.Ops.Confirm:
		// Ops confirm only what they targeted, and only while the batch still
		// has that target: any other batch waits for the developer.
		t, ok := m.Ops.Targets[b.BatchKey]
		if !ok || b.Target == nil || *b.Target != t || b.LastRefusal != nil {
			return b, nil
		}
		nb, err := s.confirm(ctx, b, m.RequestedBy)
		if IsCode(err, CodeTargetNotEligible) {
			// Back in AWAITING_TARGET: the wait ends with TargetTaken below.
			return s.Store.Batch(ctx, b.MigrationID, b.BatchID)
		}
		return nb, err
	}
	return b, nil
}

// ---- Moving ------------------------------------------------------------------------

// Progress is how far a batch's move has come. Once done it also names
// where the batch landed, for the workflow's notification (no extra read).
type Progress struct {
	Done            bool           `json:"done"`
	Moved           int            `json:"moved"`
	Total           int            `json:"total"`
	BatchKey        string         `json:"batchKey,omitempty"`
	TargetPlatform  TargetPlatform `json:"targetPlatform,omitempty"`
	TargetAccountID string         `json:"targetAccountId,omitempty"`
}

func committedProgress(b Batch) Progress {
	return Progress{Done: true, Moved: b.Moved, Total: b.Total, BatchKey: b.BatchKey, TargetPlatform: b.TargetPlatform, TargetAccountID: b.TargetAccountID}
}

// Move moves the batch's items in chunks until none is left or the deadline
// nears, then marks the batch COMMITTED. Safe to run again at any point, and
// concurrently: each item moves only from its source, once.
func (s *Migrator) Move(ctx context.Context, migrationID, batchID string, until time.Time) (Progress, error) {
	b, err := s.Store.Batch(ctx, migrationID, batchID)
	if err != nil {
		return Progress{}, err
	}
	switch b.State {
	case Committed:
		return committedProgress(b), nil
	case Committing:
	default:
		return Progress{}, Errorf(CodeWrongStep, "batch is %s, not COMMITTING", b.State)
	}
	chunk := s.ChunkSize
	if chunk <= 0 || chunk > 99 {
		chunk = 99
	}
	// Full-size transactions go thirty to a call (~3,000 items: one query
	// page within DynamoDB's 1 MB read): the store finds them with one query
	// (MoveChunk), whose fixed cost would otherwise weigh on every
	// transaction. Smaller chunks stay one transaction per call.
	if chunk == 99 {
		chunk = 30 * 99
	}
	for {
		if err := ctx.Err(); err != nil {
			return Progress{}, err
		}
		n, done, err := s.Store.MoveChunk(ctx, b, chunk, s.now())
		if err != nil {
			return Progress{}, err
		}
		b.Moved += n
		if done {
			break
		}
		if !until.IsZero() && s.now().After(until) {
			return Progress{Moved: b.Moved, Total: b.Total}, nil
		}
	}
	t := Transition{MigrationID: migrationID, BatchID: batchID, From: []BatchState{Committing}, To: Committed,
		Audit: AuditEvent{At: s.stamp(), Event: EventBatchCommitted, Account: b.Source.String(), MigrationID: migrationID, BatchID: batchID,
			BatchKey: b.BatchKey, From: Committing, To: Committed, Detail: map[string]any{"targetAccountId": b.TargetAccountID, "total": b.Total}}}
	if _, err := s.Store.Transition(ctx, t); err != nil {
		// Another mover may have finished first; anything else is the error.
		cur, rerr := s.Store.Batch(ctx, migrationID, batchID)
		if rerr != nil {
			return Progress{}, rerr
		}
		if cur.State != Committed {
			return Progress{}, err
		}
		b = cur
	}
	b, err = s.Store.Batch(ctx, migrationID, batchID)
	if err != nil {
		return Progress{}, err
	}
	return committedProgress(b), nil
}

// ---- Summary -----------------------------------------------------------------------

// Summary is the workflow's output (CONTRACT.md §3). It lists at most
// SummaryBatchLimit batches, so it stays far below Step Functions' 256 KB
// payload limit (and under 16 KB) whatever the batch count; Counts covers all.
type Summary struct {
	MigrationID      string             `json:"migrationId"`
	State            MigrationState     `json:"state"`
	Counts           map[BatchState]int `json:"counts"`
	Batches          []BatchSummary     `json:"batches"`
	BatchesTruncated bool               `json:"batchesTruncated,omitempty"`
	// ActiveMigrationID names the account's active migration when this
	// execution started nothing because of it.
	ActiveMigrationID string `json:"activeMigrationId,omitempty"`
}

// SummaryBatchLimit is how many batches the workflow's output lists, and
// summaryBatchBytes how many bytes of it they may take (the output's bound is 16 KB).
const (
	SummaryBatchLimit = 100
	summaryBatchBytes = 14 << 10
)

func (b BatchSummary) size() int {
	n := len(b.BatchKey) + len(b.State) + len(b.TargetPlatform) + len(b.TargetAccountID) + 90 // names and punctuation
	if b.Error != nil {
		n += len(b.Error.Code) + len(b.Error.Message) + 40
	}
	return n
}

// BatchSummary is one batch in the summary.
type BatchSummary struct {
	BatchKey        string         `json:"batchKey"`
	State           BatchState     `json:"state"`
	TargetPlatform  TargetPlatform `json:"targetPlatform"`
	TargetAccountID string         `json:"targetAccountId,omitempty"`
	Error           *BatchError    `json:"error,omitempty"`
}

// Summarize ends the migration: the account's claim is released so it may
// start again, and the outcome is returned.
func (s *Migrator) Summarize(ctx context.Context, migrationID string) (Summary, error) {
	m, err := s.Store.Migration(ctx, migrationID)
	if err != nil {
		return Summary{}, err
	}
	batches, err := s.Store.Batches(ctx, migrationID)
	if err != nil {
		return Summary{}, err
	}
	sum := Summarise(m, batches)
	if sum.State == MigrationInProgress {
		return sum, nil
	}
	if !m.Summarized {
		ev := AuditEvent{At: s.stamp(), Event: EventMigrationEnded, Account: m.Source.String(), MigrationID: migrationID,
			Detail: map[string]any{"state": string(sum.State)}}
		if err := s.Store.MarkSummarized(ctx, migrationID, ev); err != nil {
			return Summary{}, err
		}
	}
	return sum, s.Store.ReleaseActive(ctx, m.Source, migrationID)
}

// Summarise is the workflow's output for a migration and its batches: every
// batch counted by state, the first ones listed within the output's bound.
func Summarise(m Migration, batches []Batch) Summary {
	sum := Summary{MigrationID: m.MigrationID, State: DeriveMigrationState(m.Eligible, states(batches)), Counts: map[BatchState]int{},
		Batches: make([]BatchSummary, 0, min(len(batches), SummaryBatchLimit))}
	listed := 0 // bytes of the listed batches: long error messages could outgrow the limit first
	for _, b := range batches {
		sum.Counts[b.State]++
		bs := BatchSummary{BatchKey: b.BatchKey, State: b.State, TargetPlatform: b.TargetPlatform, TargetAccountID: b.TargetAccountID, Error: b.Error}
		size := bs.size()
		if sum.BatchesTruncated || len(sum.Batches) == SummaryBatchLimit || listed+size > summaryBatchBytes {
			sum.BatchesTruncated = true
			continue
		}
		listed += size
		sum.Batches = append(sum.Batches, bs)
	}
	return sum
}

// AttachExecution records the execution driving a migration, once.
func (s *Migrator) AttachExecution(ctx context.Context, migrationID, arn string) error {
	m, err := s.Store.Migration(ctx, migrationID)
	if err != nil || m.ExecutionArn != "" || arn == "" {
		return err
	}
	return s.Store.SetExecutionArn(ctx, migrationID, arn)
}

// TargetView is one page of what a new-platform account holds.
type TargetView struct {
	Account    TargetAccount
	Items      []Item
	NextCursor string
}

// TargetHoldings shows a target account's holdings to the login that owns it
// (rule 10); to anyone else it does not exist.
func (s *Migrator) TargetHoldings(ctx context.Context, src AccountRef, p TargetPlatform, accountID, cursor string, limit int) (TargetView, error) {
	acct, err := s.Store.SourceAccount(ctx, src)
	if err != nil {
		return TargetView{}, err
	}
	notFound := Errorf(CodeNotFound, "no account %s on %s", accountID, p)
	if p != TargetDeveloper && p != TargetPartner {
		return TargetView{}, notFound
	}
	t, err := s.Store.TargetAccount(ctx, p, accountID)
	if IsCode(err, CodeNotFound) || (err == nil && t.Login != acct.Login) {
		return TargetView{}, notFound
	} else if err != nil {
		return TargetView{}, err
	}
	items, next, err := s.Store.HeldItems(ctx, TargetHolder(p, accountID), "", cursor, limit)
	if err != nil {
		return TargetView{}, err
	}
	if err := s.link(ctx, items); err != nil {
		return TargetView{}, err
	}
	return TargetView{Account: t, Items: items, NextCursor: next}, nil
}

// link resolves where each relation's app lives now. A relation moves with its
// collaborator and the app with its creator, in either order; the link is the
// app's id, so it always points at the app's current account.
func (s *Migrator) link(ctx context.Context, items []Item) error {
	for i, it := range items {
		if it.Type != ItemMember {
			continue
		}
		app, err := s.Store.Item(ctx, ItemApp, it.ParentID)
		if err != nil {
			return err
		}
		// Only the platform: the app's account belongs to someone else.
		parts := strings.SplitN(app.Holder, ":", 3)
		if len(parts) == 3 {
			items[i].LinkedTo = parts[1]
		}
	}
	return nil
}
