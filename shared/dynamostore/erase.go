package dynamostore

// Erasure of one developer's personal data on request (docs/PRIVACY.md):
// every login of theirs (e-mail or phone) in any attribute of either table,
// index keys included, becomes one pseudonym, the same everywhere, so what
// belongs together still does (an account and its target accounts, a batch
// and its login); the IP addresses and user agents recorded for their
// accounts are removed. Ids, states, what moved where, the agreement's
// version and hash and the receipt's items stay: the record that a migration
// happened stays verifiable, and a receipt's SHA-256 (over its items only)
// does not change.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/migration"
)

// PseudonymPrefix starts every login an erasure wrote.
const PseudonymPrefix = "erased-"

// EventPersonalDataErased is the audit record of an erasure.
const EventPersonalDataErased = "PERSONAL_DATA_ERASED"

// personalKeys are the attributes, at any depth, that hold where a request
// came from.
var personalKeys = map[string]bool{"sourceIp": true, "userAgent": true}

// EraseAPI is what an erasure needs of DynamoDB: it reads both tables whole.
type EraseAPI interface {
	API
	ScanAPI
}

// Eraser erases one developer's personal data from the data and audit tables.
type Eraser struct {
	DB    EraseAPI
	Store *Store // the same tables; appends the erasure's audit record
}

// EraseRequest names the developer (one old-platform account), why and who.
type EraseRequest struct {
	Account  migration.AccountRef
	Reason   string // the ticket of the request
	Operator string // who ran it (the caller's identity)
	At       string // migration.Stamp of now
	DryRun   bool   // find and report, change nothing
}

// ErasedItem is one item the erasure changes (or would change).
type ErasedItem struct {
	Table      string   `json:"table"`
	PK         string   `json:"pk"`
	SK         string   `json:"sk"`
	Attributes []string `json:"attributes"` // top-level attributes rewritten or removed
}

// ErasureReport says what was (or would be) changed. It names no login.
type ErasureReport struct {
	Account   string       `json:"account"`
	Accounts  []string     `json:"accounts"` // every old-platform account of that login
	Pseudonym string       `json:"pseudonym"`
	DryRun    bool         `json:"dryRun"`
	Changed   int          `json:"changed"`
	Items     []ErasedItem `json:"items"`
}

// Erase pseudonymises the account's login everywhere and removes the IPs and
// user agents of every account with that login. It refuses while one of
// them has a migration in progress (what runs would write the login again).
// Running it again finds nothing more to change but its own audit record.
func (e *Eraser) Erase(ctx context.Context, req EraseRequest) (ErasureReport, error) {
	rep := ErasureReport{Account: req.Account.String(), DryRun: req.DryRun}
	if strings.TrimSpace(req.Reason) == "" {
		return rep, migration.Errorf(migration.CodeInvalidInput, "an erasure needs the reason (the request's ticket)")
	}
	acct, err := e.Store.SourceAccount(ctx, req.Account)
	if err != nil {
		return rep, err
	}
	login := acct.Login
	rep.Pseudonym = login
	if !strings.HasPrefix(login, PseudonymPrefix) {
		if rep.Pseudonym, err = newPseudonym(); err != nil {
			return rep, err
		}
	}
	match := loginPattern(login)

	// The data table first: it names the accounts whose trail is theirs.
	var data []pending
	accounts := map[string]bool{req.Account.String(): true}
	err = e.scan(ctx, e.Store.base.table, func(item map[string]types.AttributeValue) error {
		own := strings.EqualFold(stringAttr(item, "login"), login)
		if own && strings.HasPrefix(stringAttr(item, attrPK), "ACCOUNT#") {
			var a migration.Account
			if err := attributevalue.UnmarshalMap(item, &a); err == nil {
				accounts[migration.AccountRef{Platform: string(a.Platform), ID: a.ID}.String()] = true
			}
		}
		p, err := scrubItem(e.Store.base.table, item, match, rep.Pseudonym, own)
		if p != nil {
			data = append(data, *p)
		}
		return err
	})
	if err != nil {
		return rep, err
	}
	var trail []pending
	if e.Store.base.audit != e.Store.base.table {
		err = e.scan(ctx, e.Store.base.audit, func(item map[string]types.AttributeValue) error {
			own := accounts[strings.TrimPrefix(stringAttr(item, attrPK), "AUDIT#")]
			p, err := scrubItem(e.Store.base.audit, item, match, rep.Pseudonym, own)
			if p != nil {
				trail = append(trail, *p)
			}
			return err
		})
		if err != nil {
			return rep, err
		}
	}
	for a := range accounts {
		rep.Accounts = append(rep.Accounts, a)
	}
	sort.Strings(rep.Accounts)
	for _, a := range rep.Accounts {
		ref, _ := migration.ParseAccountRef(a)
		active, err := e.active(ctx, ref)
		if err != nil {
			return rep, err
		}
		if active != "" {
			return rep, migration.Errorf(migration.CodeWrongStep,
				"%s has a migration in progress (%s): erase once it has ended", a, active)
		}
	}
	for _, p := range append(data, trail...) {
		rep.Items = append(rep.Items, p.report)
	}
	rep.Changed = len(rep.Items)
	if req.DryRun {
		return rep, nil
	}
	for _, p := range append(data, trail...) {
		if err := e.apply(ctx, p, match, rep.Pseudonym); err != nil {
			return rep, fmt.Errorf("%s %s/%s: %w", p.report.Table, p.report.PK, p.report.SK, err)
		}
	}
	ev := migration.AuditEvent{At: req.At, Event: EventPersonalDataErased, Account: req.Account.String(), Actor: req.Operator,
		Detail: map[string]any{"reason": req.Reason, "accounts": rep.Accounts, "items": rep.Changed}}
	audit, err := e.Store.base.auditPut(ev, "erase#"+req.At)
	if err != nil {
		return rep, err
	}
	return rep, e.Store.base.transact(ctx, []types.TransactWriteItem{audit})
}

// active names the account's migration in progress, if any.
func (e *Eraser) active(ctx context.Context, ref migration.AccountRef) (string, error) {
	out, err := e.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &e.Store.base.table, Key: key(activePK(ref), metaSK), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", storeErr(err)
	}
	return stringAttr(out.Item, "migrationId"), nil
}

func (e *Eraser) scan(ctx context.Context, table string, each func(map[string]types.AttributeValue) error) error {
	p := dynamodb.NewScanPaginator(e.DB, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return storeErr(err)
		}
		for _, item := range page.Items {
			if err := each(item); err != nil {
				return err
			}
		}
	}
	return nil
}

// pending is one item's change: the attributes to set and to remove, each
// under the condition that it still holds what was read.
type pending struct {
	report ErasedItem
	key    map[string]types.AttributeValue
	old    map[string]types.AttributeValue // the changed attributes as read
	set    map[string]types.AttributeValue
	remove []string
}

// scrubItem rewrites an item's login occurrences and, when own, drops its
// IPs and user agents; nil when nothing changes. A login in the item's key
// cannot be rewritten in place: that is an error (no key holds one).
func scrubItem(table string, item map[string]types.AttributeValue, match *regexp.Regexp, pseudonym string, own bool) (*pending, error) {
	p := &pending{report: ErasedItem{Table: table, PK: stringAttr(item, attrPK), SK: stringAttr(item, attrSK)},
		key: map[string]types.AttributeValue{attrPK: item[attrPK], attrSK: item[attrSK]},
		old: map[string]types.AttributeValue{}, set: map[string]types.AttributeValue{}}
	for name, av := range item {
		if own && (personalKeys[name] || name == attrPersonal) {
			p.remove = append(p.remove, name)
			p.old[name] = av
			continue
		}
		nv, changed := scrubValue(av, match, pseudonym, own)
		if !changed {
			continue
		}
		if name == attrPK || name == attrSK {
			return nil, fmt.Errorf("%s %s/%s: a login in the item's key", table, p.report.PK, p.report.SK)
		}
		p.set[name], p.old[name] = nv, av
	}
	if len(p.old) == 0 {
		return nil, nil
	}
	for name := range p.old {
		p.report.Attributes = append(p.report.Attributes, name)
	}
	sort.Strings(p.report.Attributes)
	sort.Strings(p.remove)
	return p, nil
}

// scrubValue rewrites every string holding the login (any case) and, when
// own, drops personalKeys from maps, at any depth.
func scrubValue(av types.AttributeValue, match *regexp.Regexp, pseudonym string, own bool) (types.AttributeValue, bool) {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		if s := replaceLogin(v.Value, match, pseudonym); s != v.Value {
			return &types.AttributeValueMemberS{Value: s}, true
		}
	case *types.AttributeValueMemberSS:
		out, changed := make([]string, len(v.Value)), false
		for i, s := range v.Value {
			out[i] = replaceLogin(s, match, pseudonym)
			changed = changed || out[i] != s
		}
		if changed {
			return &types.AttributeValueMemberSS{Value: out}, true
		}
	case *types.AttributeValueMemberL:
		out, changed := make([]types.AttributeValue, len(v.Value)), false
		for i, e := range v.Value {
			var c bool
			out[i], c = scrubValue(e, match, pseudonym, own)
			changed = changed || c
		}
		if changed {
			return &types.AttributeValueMemberL{Value: out}, true
		}
	case *types.AttributeValueMemberM:
		out, changed := map[string]types.AttributeValue{}, false
		for k, e := range v.Value {
			if own && personalKeys[k] {
				changed = true
				continue
			}
			var c bool
			out[k], c = scrubValue(e, match, pseudonym, own)
			changed = changed || c
		}
		if changed {
			return &types.AttributeValueMemberM{Value: out}, true
		}
	}
	return av, false
}

// apply writes one item's change, only over what was read; when something
// else changed the item meanwhile, it reads the item again and scrubs that.
func (e *Eraser) apply(ctx context.Context, p pending, match *regexp.Regexp, pseudonym string) error {
	for attempt := 0; ; attempt++ {
		err := e.update(ctx, p)
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) || attempt == 4 {
			return storeErr(err)
		}
		out, err := e.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &p.report.Table, Key: p.key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return storeErr(err)
		}
		if len(out.Item) == 0 {
			return nil // gone meanwhile
		}
		_, own := p.old["login"]
		own = own || len(p.remove) > 0 || strings.EqualFold(stringAttr(out.Item, "login"), stringAttr(p.old, "login"))
		np, err := scrubItem(p.report.Table, out.Item, match, pseudonym, own)
		if err != nil || np == nil {
			return err
		}
		p = *np
	}
}

func (e *Eraser) update(ctx context.Context, p pending) error {
	var upd expression.UpdateBuilder
	var cond expression.ConditionBuilder
	first := true
	and := func(c expression.ConditionBuilder) {
		if first {
			cond, first = c, false
		} else {
			cond = cond.And(c)
		}
	}
	for name, v := range p.set {
		upd = upd.Set(expression.Name(name), expression.Value(raw{v}))
	}
	for _, name := range p.remove {
		upd = upd.Remove(expression.Name(name))
	}
	for name, v := range p.old {
		and(expression.Name(name).Equal(expression.Value(raw{v})))
	}
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return err
	}
	_, err = e.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &p.report.Table, Key: p.key, UpdateExpression: expr.Update(),
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	return err
}

// raw hands an attribute value to the expression builder as it is.
type raw struct{ av types.AttributeValue }

func (r raw) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) { return r.av, nil }

// loginPattern matches the login in any case (keys hold it lower-cased);
// nil for an account without one.
func loginPattern(login string) *regexp.Regexp {
	if login == "" {
		return nil
	}
	return regexp.MustCompile("(?i)" + regexp.QuoteMeta(login))
}

func replaceLogin(s string, match *regexp.Regexp, pseudonym string) string {
	if match == nil {
		return s
	}
	return match.ReplaceAllLiteralString(s, pseudonym)
}

func newPseudonym() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return PseudonymPrefix + hex.EncodeToString(b[:]), nil
}
