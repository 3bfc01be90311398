package dynamostore

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/importer"
	"github.com/devplatform/account-migration/shared/migration"
)

// ImportTable is the table side of an import (importer.Table): the reads
// that resolve and judge records, and the conditional writes that add them.
func (s *SnapshotImport) ImportTable() importer.Table { return importTable{s} }

type importTable struct{ s *SnapshotImport }

// Resolve reads the subjects, accounts and assets refs name, consistently,
// 100 keys a call.
func (t importTable) Resolve(ctx context.Context, refs []migration.Ref) (importer.Resolved, error) {
	out := importer.Resolved{Subjects: map[string]bool{}, Accounts: map[string]string{}, Assets: map[string]migration.Item{}}
	var keys []map[string]types.AttributeValue
	for _, ref := range refs {
		switch ref.Kind {
		case "subject":
			keys = append(keys, key(subjectPK(ref.ID), metaSK))
		case "account":
			if a, ok := accountOfHolder(ref.ID); ok {
				keys = append(keys, key(accountPK(a), metaSK))
			}
		case "asset":
			keys = append(keys, key(itemPK(migration.ItemApp, ref.ID), metaSK), key(itemPK(migration.ItemService, ref.ID), metaSK))
		}
	}
	rows, err := t.s.readKeys(ctx, keys)
	if err != nil {
		return out, err
	}
	for _, row := range rows {
		pk := stringAttr(row, attrPK)
		switch {
		case strings.HasPrefix(pk, "SUBJECT#"):
			var sub migration.Subject
			if err := attributevalue.UnmarshalMap(row, &sub); err != nil {
				return out, err
			}
			out.Subjects[sub.ID] = sub.Certified
		case strings.HasPrefix(pk, "ACCOUNT#"):
			var a migration.Account
			if err := attributevalue.UnmarshalMap(row, &a); err != nil {
				return out, err
			}
			out.Accounts[migration.SourceHolder(a.Platform, a.ID)] = a.SubjectID
		case strings.HasPrefix(pk, "ITEM#"):
			var it migration.Item
			if err := attributevalue.UnmarshalMap(row, &it); err != nil {
				return out, err
			}
			out.Assets[it.ID] = it
		}
	}
	return out, nil
}

// accountOfHolder reads "src:<platform>:<id>".
func accountOfHolder(holder string) (migration.AccountRef, bool) {
	rest, ok := strings.CutPrefix(holder, "src:")
	if !ok {
		return migration.AccountRef{}, false
	}
	return migration.ParseAccountRef(rest)
}

// rowKey is the key of the row a record is kept in.
func rowKey(r migration.Record) (pk string) {
	switch r.Type {
	case migration.RecSubject:
		return subjectPK(r.Subject.ID)
	case migration.RecAccount:
		return accountPK(migration.AccountRef{Platform: string(r.Account.Platform), ID: r.Account.ID})
	case migration.RecTarget:
		return targetPK(r.Target.Platform, r.Target.ID)
	}
	return itemPK(r.ItemType(), r.ID())
}

// Judge compares each record with its row by the hash of the record the row
// was imported from (the service changes rows after: a holder, a binding).
func (t importTable) Judge(ctx context.Context, recs []migration.Record) ([]importer.Judged, error) {
	keys := make([]map[string]types.AttributeValue, len(recs))
	for i, r := range recs {
		keys[i] = key(rowKey(r), metaSK)
	}
	// The hash decides (and a target's own fields): the rest of a row is
	// not read.
	rows, err := t.s.readKeys(ctx, keys, attrPK, attrSource, "login", "onboarding", "subjectId", "miniprograms", "platform", "id")
	if err != nil {
		return nil, err
	}
	byPK := make(map[string]map[string]types.AttributeValue, len(rows))
	for _, row := range rows {
		byPK[stringAttr(row, attrPK)] = row
	}
	out := make([]importer.Judged, len(recs))
	for i, r := range recs {
		out[i], err = judge(r, byPK[rowKey(r)])
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func judge(r migration.Record, row map[string]types.AttributeValue) (importer.Judged, error) {
	if row == nil {
		return importer.Judged{Verdict: importer.New}, nil
	}
	sum, err := sourceHash(r.Value())
	if err != nil {
		return importer.Judged{}, err
	}
	if stringAttr(row, attrSource) == sum {
		return importer.Judged{Verdict: importer.Same}, nil
	}
	if r.Type != migration.RecTarget {
		return importer.Judged{Verdict: importer.Different, Problem: "exists with other content (only a target account's onboarding and miniprograms may change)"}, nil
	}
	var cur migration.TargetAccount
	if err := attributevalue.UnmarshalMap(row, &cur); err != nil {
		return importer.Judged{}, err
	}
	if p := migration.TargetChange(cur, r.Target); p != "" {
		return importer.Judged{Verdict: importer.Different, Problem: p}, nil
	}
	return importer.Judged{Verdict: importer.Forward}, nil
}

// itemRow is the row of a placed item imported from rec.
func itemRow(it migration.Item, rec migration.Record) (map[string]types.AttributeValue, error) {
	av, err := record(it, itemKeys(it))
	if err != nil {
		return nil, err
	}
	return stamped(av, rec)
}

// stamped adds the hash of the record a row comes from.
func stamped(av map[string]types.AttributeValue, rec migration.Record) (map[string]types.AttributeValue, error) {
	sum, err := sourceHash(rec.Value())
	if err != nil {
		return nil, err
	}
	av[attrSource] = &types.AttributeValueMemberS{Value: sum}
	return av, nil
}

// plainRows are the rows of records that join nothing: subjects, accounts,
// new target accounts (with what they hold), and items put where they are
// placed.
func plainRows(rec migration.Record, it *migration.Item) ([]importRow, error) {
	list := migration.ListOf(rec.Type)
	name := fmt.Sprintf("%s %s", rec.At, rec.ID())
	one := func(av map[string]types.AttributeValue, err error) ([]importRow, error) {
		if err != nil {
			return nil, err
		}
		av, err = stamped(av, rec)
		return []importRow{{kind: list, name: name, av: av}}, err
	}
	switch rec.Type {
	case migration.RecSubject:
		return one(record(rec.Subject, map[string]string{attrPK: subjectPK(rec.Subject.ID), attrSK: metaSK}))
	case migration.RecAccount:
		a := rec.Account
		return one(record(a, map[string]string{attrPK: accountPK(migration.AccountRef{Platform: string(a.Platform), ID: a.ID}), attrSK: metaSK}))
	case migration.RecTarget:
		rows, err := one(targetRecord(rec.Target))
		if err != nil {
			return nil, err
		}
		// What it already holds counts against its subject's quota.
		hr, err := heldRow(rec.Target)
		if err != nil || hr == nil {
			return rows, err
		}
		hr, err = stamped(hr, rec)
		return append(rows, importRow{kind: "", name: name + " (mini-programs held)", av: hr}), err
	}
	av, err := itemRow(*it, rec)
	if err != nil {
		return nil, err
	}
	return []importRow{{kind: list, name: name, av: av}}, nil
}
