package migration

import (
	"context"
	"strings"
)

// TargetView is one page of what a new-platform account holds.
type TargetView struct {
	Account    TargetAccount
	Items      []Item
	NextCursor string
}

// TargetHoldings shows a target account's holdings to the login that owns it
// (rule 10); to anyone else it does not exist.
func (s *Reads) TargetHoldings(ctx context.Context, src AccountRef, p TargetPlatform, accountID, cursor string, limit int) (TargetView, error) {
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
func (s *Reads) link(ctx context.Context, items []Item) error {
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
