package migration

import "context"

// AssetsPage is one page of an account's old-platform assets (GET /v1/assets).
type AssetsPage struct {
	Account    Account
	Subjects   []Subject
	Items      []Item
	Eligible   bool
	NextCursor string
}

// Assets lists one page of what the account holds, role scope applied by Place.
func (s *Reads) Assets(ctx context.Context, src AccountRef, cursor string, limit int) (AssetsPage, error) {
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
func (s *Reads) eligible(ctx context.Context, holder string) (bool, error) {
	first, _, err := s.Store.HeldItems(ctx, holder, "", "", 1)
	if err != nil {
		return false, err
	}
	return len(first) > 0 && first[0].Skip == "" && first[0].BatchKey != "", nil
}

// Plan is the account's split into batches, from what it still holds.
func (s *Reads) Plan(ctx context.Context, src AccountRef) (Plan, error) {
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
