package dynamostore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/shared/migration"
)

// An account's audit trail is ordered by a sequence of its own, not by the
// clocks of the Lambda hosts that wrote it: each record's sort key is
// auditSeqPrefix and the next number after the account's last record, and the
// put is conditioned on that key being free. Two writers that read the same
// last number race for one key; DynamoDB lets one win, and the other takes
// the number after it (conditional sort key). The audit table stays
// append-only: no counter to update, only puts that never overwrite.
//
// Records written before the sequence (keys that start with their time) sort
// before every sequenced one: '2' < 's'.
const (
	auditSeqPrefix = "seq#"
	auditSeqWidth  = 12 // a trillion events per account
	// auditSeqAttempts bounds the retries of a transaction whose only failure
	// is a sequence number another writer took first: each round one of the
	// racing writers of an account wins.
	auditSeqAttempts = 30
)

// auditPut is the append-only audit record: a put that never overwrites, into
// the audit table (where the functions' IAM allows nothing but adding). Its
// sort key is the account's next sequence number, given by transact when it
// sends the put (below); ref names what the record is about.
func (s *base) auditPut(ev migration.AuditEvent, ref string) (types.TransactWriteItem, error) {
	av, err := record(ev, map[string]string{attrPK: auditPK(ev.Account), attrSK: auditSeqPrefix, "ref": ref})
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	markPersonal(av) // its IP and user agent expire (audit_retention.go)
	expr, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrPK))).Build()
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.audit, Item: av, ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()}}, nil
}

func auditSeq(ev migration.AuditEvent) string {
	return ev.MigrationID + "#" + ev.BatchID + "#" + ev.Event
}

func auditSK(n int64) string {
	return fmt.Sprintf("%s%0*d", auditSeqPrefix, auditSeqWidth, n)
}

// auditIndexes lists the transaction's audit puts (see auditPut).
func (s *base) auditIndexes(items []types.TransactWriteItem) []int {
	var out []int
	for i, it := range items {
		if it.Put != nil && aws.ToString(it.Put.TableName) == s.audit && strings.HasPrefix(stringAttr(it.Put.Item, attrPK), "AUDIT#") {
			out = append(out, i)
		}
	}
	return out
}

// sequenceAudit gives each audit put the next free numbers of its account,
// in the order the puts appear.
func (s *base) sequenceAudit(ctx context.Context, items []types.TransactWriteItem, audits []int) error {
	next := map[string]int64{}
	for _, i := range audits {
		pk := stringAttr(items[i].Put.Item, attrPK)
		n, ok := next[pk]
		if !ok {
			last, err := s.lastAuditSeq(ctx, pk)
			if err != nil {
				return err
			}
			n = last + 1
		}
		items[i].Put.Item[attrSK] = &types.AttributeValueMemberS{Value: auditSK(n)}
		items[i].Put.Item["seq"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
		next[pk] = n + 1
	}
	return nil
}

// lastAuditSeq is the number of the account's last sequenced record, 0 when
// it has none (a strongly consistent read of the newest key).
func (s *base) lastAuditSeq(ctx context.Context, pk string) (int64, error) {
	kc := expression.Key(attrPK).Equal(expression.Value(pk)).And(expression.Key(attrSK).BeginsWith(auditSeqPrefix))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return 0, err
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: &s.audit, KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(1), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String(attrSK)})
	if err != nil {
		return 0, storeErr(err)
	}
	if len(out.Items) == 0 {
		return 0, nil
	}
	sk := stringAttr(out.Items[0], attrSK)
	n, err := strconv.ParseInt(strings.TrimPrefix(sk, auditSeqPrefix), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("audit record %s/%s: sort key is not a sequence number: %w", pk, sk, err)
	}
	return n, nil
}

// onlyAuditRaced reports a transaction cancelled only because an audit put's
// number was taken: every other action passed.
func onlyAuditRaced(reasons []types.CancellationReason, audits []int) bool {
	isAudit := map[int]bool{}
	for _, i := range audits {
		isAudit[i] = true
	}
	raced := false
	for i, r := range reasons {
		switch code := aws.ToString(r.Code); {
		case code == "" || code == "None":
		case code == "ConditionalCheckFailed" && isAudit[i]:
			raced = true
		default:
			return false
		}
	}
	return raced
}

// auditRaceBackoff spreads the racing writers of one account apart.
func auditRaceBackoff(ctx context.Context, attempt int) error {
	d := time.Duration(5+rand.IntN(10*min(attempt, 10))) * time.Millisecond
	select {
	case <-ctx.Done():
		return &migration.Error{Code: migration.CodeUnavailable, Message: "cancelled while writing the audit trail; try again", Err: ctx.Err()}
	case <-time.After(d):
		return nil
	}
}
