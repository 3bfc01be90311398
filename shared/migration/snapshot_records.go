package migration

import (
	"encoding/json"
	"fmt"

	"github.com/devplatform/account-migration/shared/strictjson"
)

// RecordType is the "type" of one JSON Lines record (docs/CONTRACT.md §4).
type RecordType string

const (
	RecSubject  RecordType = "subject"
	RecAccount  RecordType = "account"
	RecIdentity RecordType = "identity"
	RecApp      RecordType = "app"
	RecService  RecordType = "service"
	RecMember   RecordType = "member"
	RecData     RecordType = "data"
	RecOrder    RecordType = "order"
	RecTarget   RecordType = "targetAccount"
)

// RecordTypes in the snapshot's order, each with the snapshot list it sits in.
var RecordTypes = []struct {
	Type RecordType
	List string
}{
	{RecSubject, "subjects"}, {RecAccount, "accounts"}, {RecIdentity, "identities"}, {RecApp, "apps"},
	{RecService, "services"}, {RecMember, "members"}, {RecData, "data"}, {RecOrder, "orders"}, {RecTarget, "targetAccounts"},
}

// ListOf is the snapshot list of a record type ("apps"); "" for none.
func ListOf(t RecordType) string {
	for _, rt := range RecordTypes {
		if rt.Type == t {
			return rt.List
		}
	}
	return ""
}

// TypeOfList is the record type of a snapshot list; "" for none.
func TypeOfList(list string) RecordType {
	for _, rt := range RecordTypes {
		if rt.List == list {
			return rt.Type
		}
	}
	return ""
}

// Record is one old-platform record of an import, wherever it came from (a
// snapshot's list or a JSON Lines line): its type, where it was, and its
// value in the field of its type.
type Record struct {
	Type RecordType
	// At names the record for errors: "line 12 (app app-7)".
	At       string
	Line     int
	Subject  Subject
	Account  Account
	Identity Identity
	App      App
	Service  Service
	Member   Member
	Data     DataSet
	Order    Order
	Target   TargetAccount
}

// Value is the record's own value (its snapshot form).
func (r Record) Value() any {
	switch r.Type {
	case RecSubject:
		return r.Subject
	case RecAccount:
		return r.Account
	case RecIdentity:
		return r.Identity
	case RecApp:
		return r.App
	case RecService:
		return r.Service
	case RecMember:
		return r.Member
	case RecData:
		return r.Data
	case RecOrder:
		return r.Order
	case RecTarget:
		return r.Target
	}
	return nil
}

// ID is the record's own id as the input names it.
func (r Record) ID() string {
	switch r.Type {
	case RecSubject:
		return r.Subject.ID
	case RecAccount:
		return r.Account.ID
	case RecIdentity:
		return r.Identity.ID
	case RecApp:
		return r.App.ID
	case RecService:
		return r.Service.ID
	case RecMember:
		return MemberItemID(r.Member.AssetID, r.Member.AccountID)
	case RecData:
		return r.Data.ID
	case RecOrder:
		return r.Order.ID
	case RecTarget:
		return r.Target.ID
	}
	return ""
}

// Key is the record's identity across the input and the table: two records
// with one key are the same record. Apps and services share one namespace
// (a data set names its asset by id alone).
func (r Record) Key() string {
	switch r.Type {
	case RecAccount:
		return "account#" + SourceHolder(r.Account.Platform, r.Account.ID)
	case RecApp, RecService:
		return "asset#" + r.ID()
	case RecTarget:
		return "target#" + TargetHolder(r.Target.Platform, r.Target.ID)
	}
	return string(r.Type) + "#" + r.ID()
}

// ItemType is the item a record becomes; "" for subjects, accounts and
// target accounts.
func (r Record) ItemType() ItemType {
	switch r.Type {
	case RecIdentity:
		return ItemIdentity
	case RecApp:
		return ItemApp
	case RecService:
		return ItemService
	case RecMember:
		return ItemMember
	case RecData:
		return ItemData
	case RecOrder:
		return ItemOrder
	}
	return ""
}

// DecodeRecord decodes one record of type t from its JSON (strictly: no
// unknown, duplicated or wrongly cased field).
func DecodeRecord(t RecordType, raw json.RawMessage) (Record, error) {
	return decodeRecord(t, raw, strictjson.Decode)
}

func decodeRecord(t RecordType, raw json.RawMessage, decode func([]byte, any) error) (Record, error) {
	r := Record{Type: t}
	var err error
	switch t {
	case RecSubject:
		err = decode(raw, &r.Subject)
	case RecAccount:
		err = decode(raw, &r.Account)
	case RecIdentity:
		err = decode(raw, &r.Identity)
	case RecApp:
		err = decode(raw, &r.App)
	case RecService:
		err = decode(raw, &r.Service)
	case RecMember:
		err = decode(raw, &r.Member)
	case RecData:
		err = decode(raw, &r.Data)
	case RecOrder:
		err = decode(raw, &r.Order)
	case RecTarget:
		err = decode(raw, &r.Target)
	default:
		return r, fmt.Errorf("type %q is not subject, account, identity, app, service, member, data, order or targetAccount", t)
	}
	if err != nil {
		return r, fmt.Errorf("%s", strictjson.Problem(err))
	}
	return r, nil
}

// lineType is the "type" every JSON Lines record carries beside its fields.
type lineType struct {
	Type RecordType `json:"type"`
}

// DecodeLine decodes one JSON Lines record: an object with "type" and the
// fields of that type, strictly (no unknown, duplicated or wrongly cased field).
func DecodeLine(raw []byte) (Record, error) { return decodeLine(raw, strictjson.Decode) }

// DecodeCheckedLine decodes a line DecodeLine accepted before (a later pass
// over the same input) without the strict walk.
func DecodeCheckedLine(raw []byte) (Record, error) { return decodeLine(raw, json.Unmarshal) }

// DecodeCheckedRecord is DecodeRecord for a record accepted before.
func DecodeCheckedRecord(t RecordType, raw json.RawMessage) (Record, error) {
	return decodeRecord(t, raw, json.Unmarshal)
}

func decodeLine(raw []byte, decode func([]byte, any) error) (Record, error) {
	var head struct {
		Type *RecordType `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return Record{}, fmt.Errorf("not a JSON object with a string \"type\": %v", err)
	}
	if head.Type == nil {
		return Record{}, fmt.Errorf(`"type" is missing`)
	}
	r := Record{Type: *head.Type}
	var err error
	switch r.Type {
	case RecSubject:
		var v struct {
			lineType
			Subject
		}
		err = decode(raw, &v)
		r.Subject = v.Subject
	case RecAccount:
		var v struct {
			lineType
			Account
		}
		err = decode(raw, &v)
		r.Account = v.Account
	case RecIdentity:
		var v struct {
			lineType
			Identity
		}
		err = decode(raw, &v)
		r.Identity = v.Identity
	case RecApp:
		var v struct {
			lineType
			App
		}
		err = decode(raw, &v)
		r.App = v.App
	case RecService:
		var v struct {
			lineType
			Service
		}
		err = decode(raw, &v)
		r.Service = v.Service
	case RecMember:
		var v struct {
			lineType
			Member
		}
		err = decode(raw, &v)
		r.Member = v.Member
	case RecData:
		var v struct {
			lineType
			DataSet
		}
		err = decode(raw, &v)
		r.Data = v.DataSet
	case RecOrder:
		var v struct {
			lineType
			Order
		}
		err = decode(raw, &v)
		r.Order = v.Order
	case RecTarget:
		var v struct {
			lineType
			TargetAccount
		}
		err = decode(raw, &v)
		r.Target = v.TargetAccount
	default:
		return r, fmt.Errorf("type %q is not subject, account, identity, app, service, member, data, order or targetAccount", r.Type)
	}
	if err != nil {
		return r, fmt.Errorf("%s", strictjson.Problem(err))
	}
	return r, nil
}

// Records lists the snapshot's records in its order, each named by its list
// and index ("apps[3]").
func (s *Snapshot) Records() []Record {
	var out []Record
	add := func(list string, i int, r Record) {
		r.At = fmt.Sprintf("%s[%d]", list, i)
		out = append(out, r)
	}
	for i, x := range s.Subjects {
		add("subjects", i, Record{Type: RecSubject, Subject: x})
	}
	for i, x := range s.Accounts {
		add("accounts", i, Record{Type: RecAccount, Account: x})
	}
	for i, x := range s.Identities {
		add("identities", i, Record{Type: RecIdentity, Identity: x})
	}
	for i, x := range s.Apps {
		add("apps", i, Record{Type: RecApp, App: x})
	}
	for i, x := range s.Services {
		add("services", i, Record{Type: RecService, Service: x})
	}
	for i, x := range s.Members {
		add("members", i, Record{Type: RecMember, Member: x})
	}
	for i, x := range s.Data {
		add("data", i, Record{Type: RecData, Data: x})
	}
	for i, x := range s.Orders {
		add("orders", i, Record{Type: RecOrder, Order: x})
	}
	for i, x := range s.TargetAccounts {
		add("targetAccounts", i, Record{Type: RecTarget, Target: x})
	}
	return out
}
