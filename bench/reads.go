package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/devplatform/account-migration/bench/costmodel"
)

// moto reports no consumed capacity, and its request recorder keeps requests,
// not answers. So reads are sized against an image of the table taken right
// before the execution (every record's size and string attributes), kept up
// to date with the puts the recording shows: a Query is billed for the
// records its key condition's equalities select (sort-key ranges are not
// applied, so a ranged query is counted at its whole partition: an upper
// bound), up to its Limit and DynamoDB's 1 MB page.

// tableImage is every record's size, and which records hold each string
// attribute value.
type tableImage struct {
	size  map[string]int             // pk|sk -> bytes
	index map[string]map[string]bool // name=value -> set of pk|sk
	order []string                   // keys, for deterministic sums
}

func newImage() *tableImage {
	return &tableImage{size: map[string]int{}, index: map[string]map[string]bool{}}
}

// scanImage reads the whole table into an image.
func scanImage(ctx context.Context, db *dynamodb.Client, table string) (*tableImage, error) {
	im := newImage()
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, item := range page.Items {
			strs := map[string]string{}
			for k, v := range item {
				if s, ok := v.(*types.AttributeValueMemberS); ok {
					strs[k] = s.Value
				}
			}
			im.put(strs, avItemSize(item))
		}
	}
	return im, nil
}

// put records an item by its string attributes (pk and sk among them).
func (im *tableImage) put(strs map[string]string, size int) {
	key := strs["pk"] + "|" + strs["sk"]
	if _, ok := im.size[key]; !ok {
		im.order = append(im.order, key)
	}
	im.size[key] = size
	for name, v := range strs {
		set := im.index[name+"="+v]
		if set == nil {
			set = map[string]bool{}
			im.index[name+"="+v] = set
		}
		set[key] = true
	}
}

// selectAll is the size of every record whose attributes hold all of eqs
// (name -> value), at most limit records (0: no limit) and 1 MB.
func (im *tableImage) selectAll(eqs map[string]string, limit int) int {
	var keys []string
	first := true
	for name, v := range eqs {
		set := im.index[name+"="+v]
		if first {
			for k := range set {
				keys = append(keys, k)
			}
			first = false
			continue
		}
		kept := keys[:0]
		for _, k := range keys {
			if set[k] {
				kept = append(kept, k)
			}
		}
		keys = kept
	}
	sort.Strings(keys)
	total := 0
	for i, k := range keys {
		if limit > 0 && i == limit {
			break
		}
		if total+im.size[k] > 1<<20 {
			break
		}
		total += im.size[k]
	}
	return total
}

var keyEquality = regexp.MustCompile(`([#:\w]+)\s*=\s*(:\w+)`)

// readUnits sizes one read request against the image.
func (im *tableImage) readUnits(op string, body []byte) (float64, error) {
	type wireItem = map[string]map[string]any
	var in struct {
		Key                       wireItem          `json:"Key"`
		ConsistentRead            bool              `json:"ConsistentRead"`
		KeyConditionExpression    string            `json:"KeyConditionExpression"`
		ExpressionAttributeNames  map[string]string `json:"ExpressionAttributeNames"`
		ExpressionAttributeValues wireItem          `json:"ExpressionAttributeValues"`
		IndexName                 string            `json:"IndexName"`
		Limit                     int               `json:"Limit"`
		RequestItems              map[string]struct {
			Keys           []wireItem `json:"Keys"`
			ConsistentRead bool       `json:"ConsistentRead"`
		} `json:"RequestItems"`
		TransactItems []struct {
			Get struct {
				Key wireItem `json:"Key"`
			} `json:"Get"`
		} `json:"TransactItems"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	keySize := func(k wireItem) int {
		pk, _ := k["pk"]["S"].(string)
		sk, _ := k["sk"]["S"].(string)
		return im.size[pk+"|"+sk]
	}
	switch op {
	case "GetItem":
		return costmodel.ReadUnits(keySize(in.Key), in.ConsistentRead, false), nil
	case "BatchGetItem":
		u := 0.0
		for _, t := range in.RequestItems {
			for _, k := range t.Keys {
				u += costmodel.ReadUnits(keySize(k), t.ConsistentRead, false)
			}
		}
		return u, nil
	case "TransactGetItems":
		u := 0.0
		for _, ti := range in.TransactItems {
			u += costmodel.ReadUnits(keySize(ti.Get.Key), false, true)
		}
		return u, nil
	case "Query":
		eqs := map[string]string{}
		for _, m := range keyEquality.FindAllStringSubmatch(in.KeyConditionExpression, -1) {
			name := m[1]
			if n, ok := in.ExpressionAttributeNames[name]; ok {
				name = n
			}
			if v, ok := in.ExpressionAttributeValues[m[2]]["S"].(string); ok {
				eqs[name] = v
			}
		}
		// Index reads are eventually consistent whatever the request says.
		return costmodel.ReadUnits(im.selectAll(eqs, in.Limit), in.ConsistentRead && in.IndexName == "", false), nil
	case "Scan":
		total := 0
		for _, k := range im.order {
			total += im.size[k]
		}
		return costmodel.ReadUnits(total, in.ConsistentRead, false), nil
	}
	return 0, nil
}

// avItemSize approximates DynamoDB's item size for an SDK item: names plus
// values (strings and binaries by length, numbers by digits, sets and
// documents by their members plus a few bytes).
func avItemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + avSize(v)
	}
	return n
}

func avSize(v types.AttributeValue) int {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return len(x.Value)
	case *types.AttributeValueMemberN:
		return len(x.Value)/2 + 1
	case *types.AttributeValueMemberB:
		return len(x.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range x.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range x.Value {
			n += len(s)/2 + 1
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range x.Value {
			n += 1 + avSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range x.Value {
			n += 1 + len(k) + avSize(e)
		}
		return n
	}
	return 1
}
