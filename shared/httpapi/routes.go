package httpapi

import (
	"context"
	"net/http"

	"github.com/devplatform/account-migration/shared/migration"
)

// ---- views ---------------------------------------------------------------------

type accountView struct {
	Platform  string `json:"platform"`
	AccountID string `json:"accountId"`
	Login     string `json:"login"`
	SubjectID string `json:"subjectId,omitempty"`
}

type membershipView struct {
	ID        string         `json:"id"`
	AppID     string         `json:"appId"`
	AppName   string         `json:"appName,omitempty"`
	AppKind   string         `json:"appKind,omitempty"`
	AccountID string         `json:"accountId"`
	Role      migration.Role `json:"role"`
	BatchKey  string         `json:"batchKey,omitempty"`
	// The platform the app lives on now: its old one until its own
	// migration commits, then its target platform.
	LinkedTo string `json:"linkedTo,omitempty"`
}

type categorized struct {
	Apps        []migration.Item `json:"apps"`
	Services    []migration.Item `json:"services"`
	Identities  []migration.Item `json:"identities"`
	Memberships []membershipView `json:"memberships"`
	Data        []migration.Item `json:"data"`
	Orders      []migration.Item `json:"orders"`
}

func member(it migration.Item) membershipView {
	return membershipView{ID: it.ID, AppID: it.ParentID, AppName: it.Name, AppKind: it.Kind, AccountID: it.AccountID, Role: it.Role, BatchKey: it.BatchKey, LinkedTo: it.LinkedTo}
}

// categorize sorts items into the categories of rule 7; skipped ones apart.
func categorize(items []migration.Item) (categorized, []migration.Skipped) {
	c := categorized{Apps: []migration.Item{}, Services: []migration.Item{}, Identities: []migration.Item{},
		Memberships: []membershipView{}, Data: []migration.Item{}, Orders: []migration.Item{}}
	skipped := []migration.Skipped{}
	for _, it := range items {
		if it.Skip != "" {
			skipped = append(skipped, migration.Skipped{ID: it.ID, Type: it.Type, Name: it.Name, Reason: it.Skip})
			continue
		}
		it.Holder = "" // internal
		switch it.Type {
		case migration.ItemApp:
			c.Apps = append(c.Apps, it)
		case migration.ItemService:
			c.Services = append(c.Services, it)
		case migration.ItemIdentity:
			c.Identities = append(c.Identities, it)
		case migration.ItemMember:
			c.Memberships = append(c.Memberships, member(it))
		case migration.ItemData:
			c.Data = append(c.Data, it)
		case migration.ItemOrder:
			c.Orders = append(c.Orders, it)
		}
	}
	return c, skipped
}

func accountOf(a migration.Account) accountView {
	return accountView{Platform: string(a.Platform), AccountID: a.ID, Login: a.Login, SubjectID: a.SubjectID}
}

type progressView struct {
	Moved int `json:"moved"`
	Total int `json:"total"`
}

type batchView struct {
	BatchID         string                   `json:"batchId"`
	BatchKey        string                   `json:"batchKey"`
	SubjectID       string                   `json:"subjectId"`
	TargetPlatform  migration.TargetPlatform `json:"targetPlatform"`
	State           migration.BatchState     `json:"state"`
	NextAction      string                   `json:"nextAction"`
	TargetAccountID string                   `json:"targetAccountId,omitempty"`
	Target          *migration.Target        `json:"target,omitempty"`
	Progress        progressView             `json:"progress"`
	Counts          migration.Counts         `json:"counts"`
	Agreement       *agreementView           `json:"agreement,omitempty"`
	Error           *migration.BatchError    `json:"error,omitempty"`
	LastRefusal     *migration.BatchError    `json:"lastRefusal,omitempty"` // a taken target: choose again
	UpdatedAt       string                   `json:"updatedAt"`
	// ExpiresAt is the batch's one deadline, shown while it waits on the developer.
	ExpiresAt string `json:"expiresAt,omitempty"`
}

type agreementView struct {
	Version    string `json:"version"`
	SHA256     string `json:"sha256"`
	Lang       string `json:"lang,omitempty"`
	AcceptedAt string `json:"acceptedAt"`
	Channel    string `json:"channel"`
}

func viewBatch(b migration.Batch) batchView {
	v := batchView{BatchID: b.BatchID, BatchKey: b.BatchKey, SubjectID: b.SubjectID, TargetPlatform: b.TargetPlatform, State: b.State,
		NextAction: migration.NextAction(b.State), Target: b.Target, Progress: progressView{Moved: b.Moved, Total: b.Total},
		Counts: b.Counts, Error: b.Error, LastRefusal: b.LastRefusal, UpdatedAt: b.UpdatedAt}
	if b.State.PastPointOfNoReturn() || b.Target != nil {
		v.TargetAccountID = b.TargetAccountID
	}
	if b.State.WaitingOnDeveloper() {
		v.ExpiresAt = b.ExpiresAt
	}
	if b.Agreement != nil {
		v.Agreement = &agreementView{Version: b.Agreement.Version, SHA256: b.Agreement.SHA256, Lang: b.Agreement.Lang, AcceptedAt: b.Agreement.AcceptedAt, Channel: b.Agreement.Channel}
	}
	return v
}

type migrationView struct {
	MigrationID  string                   `json:"migrationId"`
	State        migration.MigrationState `json:"state"`
	ExecutionArn string                   `json:"executionArn,omitempty"`
	CreatedAt    string                   `json:"createdAt"`
	Batches      []batchView              `json:"batches"`
}

func (a *API) viewMigration(m migration.Migration, batches []migration.Batch) migrationView {
	v := migrationView{MigrationID: m.MigrationID, State: a.Migrator.State(m, batches), ExecutionArn: m.ExecutionArn, CreatedAt: m.CreatedAt, Batches: []batchView{}}
	for _, b := range batches {
		v.Batches = append(v.Batches, viewBatch(b))
	}
	return v
}

// ---- routes --------------------------------------------------------------------

func (a *API) assets(ctx context.Context, r *request) (int, any, error) {
	limit, err := limitParam(r)
	if err != nil {
		return 0, nil, err
	}
	page, err := a.Migrator.Assets(ctx, r.caller, r.ev.QueryStringParameters["cursor"], limit)
	if err != nil {
		return 0, nil, err
	}
	c, skipped := categorize(page.Items)
	out := struct {
		Account  accountView         `json:"account"`
		Subjects []migration.Subject `json:"subjects"`
		categorized
		Skipped    []migration.Skipped `json:"skipped"`
		Eligible   bool                `json:"eligible"`
		Reason     migration.Code      `json:"reason,omitempty"`
		NextCursor string              `json:"nextCursor,omitempty"`
	}{Account: accountOf(page.Account), Subjects: page.Subjects, categorized: c, Skipped: skipped, Eligible: page.Eligible, NextCursor: page.NextCursor}
	if out.Subjects == nil {
		out.Subjects = []migration.Subject{}
	}
	if !page.Eligible {
		out.Reason = migration.CodeNoMigrationNeeded
	}
	return http.StatusOK, out, nil
}

type planBatchView struct {
	BatchKey       string                   `json:"batchKey"`
	Subject        migration.Subject        `json:"subject"`
	TargetPlatform migration.TargetPlatform `json:"targetPlatform"`
	Counts         migration.Counts         `json:"counts"`
}

func (a *API) plan(ctx context.Context, r *request) (int, any, error) {
	p, err := a.cachedPlan(ctx, r.caller)
	if err != nil {
		return 0, nil, err
	}
	out := struct {
		Eligible bool                `json:"eligible"`
		Reason   migration.Code      `json:"reason,omitempty"`
		Batches  []planBatchView     `json:"batches"`
		Skipped  []migration.Skipped `json:"skipped"`
	}{Eligible: p.Eligible, Reason: p.Reason, Batches: []planBatchView{}, Skipped: p.Skipped}
	if out.Skipped == nil {
		out.Skipped = []migration.Skipped{}
	}
	for _, b := range p.Batches {
		sub := migration.Subject{ID: b.SubjectID}
		if b.SubjectID != migration.PersonalSubject {
			if sub, err = a.Migrator.Subject(ctx, b.SubjectID); err != nil {
				return 0, nil, err
			}
		}
		out.Batches = append(out.Batches, planBatchView{BatchKey: b.BatchKey, Subject: sub, TargetPlatform: b.TargetPlatform, Counts: b.Counts})
	}
	return http.StatusOK, out, nil
}

func (a *API) startMigration(ctx context.Context, r *request) (int, any, error) {
	var in struct {
		BatchKeys []string `json:"batchKeys"`
	}
	if err := decode(r.body, &in, true); err != nil {
		return 0, nil, err
	}
	if len(in.BatchKeys) > 1000 {
		return 0, nil, migration.Errorf(migration.CodeInvalidInput, "at most 1000 batchKeys")
	}
	res, err := a.Migrator.Start(ctx, r.caller, in.BatchKeys)
	if err != nil {
		return 0, nil, err
	}
	type startedBatch struct {
		BatchID  string               `json:"batchId"`
		BatchKey string               `json:"batchKey"`
		State    migration.BatchState `json:"state"`
	}
	out := struct {
		MigrationID  string                   `json:"migrationId"`
		ExecutionArn string                   `json:"executionArn"`
		State        migration.MigrationState `json:"state"`
		Batches      []startedBatch           `json:"batches"`
	}{MigrationID: res.Migration.MigrationID, ExecutionArn: res.Migration.ExecutionArn, State: a.Migrator.State(res.Migration, res.Batches), Batches: []startedBatch{}}
	for _, b := range res.Batches {
		out.Batches = append(out.Batches, startedBatch{BatchID: b.BatchID, BatchKey: b.BatchKey, State: b.State})
	}
	status := http.StatusAccepted
	if !res.Created {
		status = http.StatusOK
	}
	return status, out, nil
}

func (a *API) migrationStatus(ctx context.Context, r *request) (int, any, error) {
	m, batches, err := a.Migrator.OwnMigration(ctx, r.caller, r.param("migrationId"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.viewMigration(m, batches), nil
}

func (a *API) review(ctx context.Context, r *request) (int, any, error) {
	limit, err := limitParam(r)
	if err != nil {
		return 0, nil, err
	}
	rv, err := a.Migrator.ReviewBatch(ctx, r.caller, r.param("migrationId"), r.param("batchId"), r.ev.QueryStringParameters["cursor"], limit)
	if err != nil {
		return 0, nil, err
	}
	c, _ := categorize(rv.Items)
	members := append([]membershipView{}, c.Memberships...)
	for _, f := range rv.Followers {
		members = append(members, member(f))
	}
	var identity *migration.Item
	if len(c.Identities) > 0 {
		identity = &c.Identities[0]
	}
	out := struct {
		batchView
		Account    accountView        `json:"account"`
		Subject    *migration.Subject `json:"subject"`
		Apps       []migration.Item   `json:"apps"`
		Services   []migration.Item   `json:"services"`
		Identity   *migration.Item    `json:"identity"`
		Identities []migration.Item   `json:"identities"`
		Members    []membershipView   `json:"members"`
		Data       []migration.Item   `json:"data"`
		Orders     []migration.Item   `json:"orders"`
		NextCursor string             `json:"nextCursor,omitempty"`
	}{batchView: viewBatch(rv.Batch), Account: accountOf(rv.Account), Subject: rv.Subject, Apps: c.Apps, Services: c.Services,
		Identity: identity, Identities: c.Identities, Members: members, Data: c.Data, Orders: c.Orders, NextCursor: rv.NextCursor}
	return http.StatusOK, out, nil
}

func (a *API) agreement(ctx context.Context, r *request) (int, any, error) {
	lang, err := agreementLang(r.ev.QueryStringParameters["lang"], header(r.ev, "accept-language"))
	if err != nil {
		return 0, nil, err
	}
	ag, err := a.Migrator.ViewAgreementIn(ctx, r.caller, lang, r.meta)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, ag, nil
}

func (a *API) accept(ctx context.Context, r *request) (int, any, error) {
	var in struct {
		Version string `json:"version"`
		SHA256  string `json:"sha256"`
	}
	if err := decode(r.body, &in, false); err != nil {
		return 0, nil, err
	}
	if in.Version == "" || in.SHA256 == "" {
		return 0, nil, migration.Errorf(migration.CodeInvalidInput, "version and sha256 are required")
	}
	b, err := a.Migrator.AcceptAgreement(ctx, r.caller, r.param("migrationId"), r.param("batchId"), in.Version, in.SHA256, r.meta)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, viewBatch(b), nil
}

func (a *API) targets(ctx context.Context, r *request) (int, any, error) {
	cands, _, err := a.Migrator.Candidates(ctx, r.caller, r.param("migrationId"), r.param("batchId"))
	if err != nil {
		return 0, nil, err
	}
	type existing struct {
		AccountID  string               `json:"accountId"`
		Login      string               `json:"login"`
		Onboarding migration.Onboarding `json:"onboarding"`
		SubjectID  string               `json:"subjectId,omitempty"`
	}
	out := struct {
		Existing   []existing `json:"existing"`
		NewAllowed bool       `json:"newAllowed"`
	}{Existing: []existing{}, NewAllowed: true}
	for _, t := range cands {
		out.Existing = append(out.Existing, existing{AccountID: t.ID, Login: t.Login, Onboarding: t.Onboarding, SubjectID: t.SubjectID})
	}
	return http.StatusOK, out, nil
}

func (a *API) selectTarget(ctx context.Context, r *request) (int, any, error) {
	var t migration.Target
	if err := decode(r.body, &t, false); err != nil {
		return 0, nil, err
	}
	b, err := a.Migrator.SelectTarget(ctx, r.caller, r.param("migrationId"), r.param("batchId"), t)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, viewBatch(b), nil
}

func (a *API) commit(ctx context.Context, r *request) (int, any, error) {
	var in struct {
		Confirm *bool `json:"confirm"`
	}
	if err := decode(r.body, &in, false); err != nil {
		return 0, nil, err
	}
	if in.Confirm == nil || !*in.Confirm {
		return 0, nil, migration.Errorf(codeConfirmationFalse, "send {\"confirm\": true} to confirm: the migration cannot be undone")
	}
	b, err := a.Migrator.Confirm(ctx, r.caller, r.param("migrationId"), r.param("batchId"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, viewBatch(b), nil
}

func (a *API) targetAccount(ctx context.Context, r *request) (int, any, error) {
	limit, err := limitParam(r)
	if err != nil {
		return 0, nil, err
	}
	view, err := a.Migrator.TargetHoldings(ctx, r.caller, migration.TargetPlatform(r.param("platform")), r.param("accountId"), r.ev.QueryStringParameters["cursor"], limit)
	if err != nil {
		return 0, nil, err
	}
	c, _ := categorize(view.Items)
	out := struct {
		Platform   migration.TargetPlatform `json:"platform"`
		AccountID  string                   `json:"accountId"`
		Login      string                   `json:"login"`
		Onboarding migration.Onboarding     `json:"onboarding"`
		SubjectID  string                   `json:"subjectId,omitempty"`
		categorized
		NextCursor string `json:"nextCursor,omitempty"`
	}{Platform: view.Account.Platform, AccountID: view.Account.ID, Login: view.Account.Login, Onboarding: view.Account.Onboarding,
		SubjectID: view.Account.SubjectID, categorized: c, NextCursor: view.NextCursor}
	return http.StatusOK, out, nil
}

func (a *API) opsMigration(ctx context.Context, r *request) (int, any, error) {
	src := migration.AccountRef{Platform: r.param("platform"), ID: r.param("accountId")}
	m, err := a.Ops.LatestMigration(ctx, src)
	if err != nil {
		return 0, nil, err
	}
	batches, err := a.Migrator.BatchesOf(ctx, m.MigrationID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.viewMigration(m, batches), nil
}
