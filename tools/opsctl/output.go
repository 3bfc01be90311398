package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// --output json|text, as the aws CLI names it, on every command. Each
// command has the format it was written for (its kind, in help.go's table);
// the other one is derived from it line by line, so every command has both:
//   - the report commands (show, waiting, stuck, reconcile) write either;
//   - the JSON commands (audit, import) print text as one logfmt line per
//     JSON line (key=value, nested keys joined with dots);
//   - the narrative commands (redrive, resume, bulk-start's messages) print
//     JSON as one {"message": "..."} line per line of text.
const (
	outputJSON = "json"
	outputText = "text"
)

// outputFormat is --output's value; empty: the command's own format.
type outputFormat string

func (o *outputFormat) String() string {
	if o == nil {
		return ""
	}
	return string(*o)
}

func (o *outputFormat) Set(s string) error {
	if s != outputJSON && s != outputText {
		return errors.New("must be json or text")
	}
	*o = outputFormat(s)
	return nil
}

// jsonAlias is the older --json switch of show, waiting, stuck and
// reconcile: the same as --output json.
type jsonAlias struct{ o *outputFormat }

func (j jsonAlias) String() string   { return "false" }
func (j jsonAlias) IsBoolFlag() bool { return true }
func (j jsonAlias) Set(s string) error {
	switch s {
	case "true", "1":
		*j.o = outputJSON
	case "false", "0":
		if *j.o == outputJSON {
			*j.o = ""
		}
	default:
		return errors.New("takes no value (it is --output json)")
	}
	return nil
}

// jsonFlag registers --json on fs; the command then reads c.g.output.
func (c *cli) jsonFlag(fs *flag.FlagSet) {
	fs.Var(jsonAlias{&c.g.output}, "json", "the same as --output json")
}

// outputKind is the format a command writes by itself.
type outputKind int

const (
	writesBoth   outputKind = iota // reads c.g.output itself
	writesJSON                     // JSON lines; text is derived
	writesText                     // lines of text; JSON is derived
	writesScript                   // a shell script: --output does not apply
)

// convertingWriter derives the format asked for from the command's own,
// a line at a time; it decides at the first write, after the flags are
// parsed (--output may follow the command).
type convertingWriter struct {
	w    io.Writer
	kind outputKind
	want *outputFormat
	buf  bytes.Buffer
}

func (cw *convertingWriter) converting() bool {
	return (cw.kind == writesJSON && *cw.want == outputText) || (cw.kind == writesText && *cw.want == outputJSON)
}

func (cw *convertingWriter) Write(p []byte) (int, error) {
	if !cw.converting() {
		return cw.w.Write(p)
	}
	cw.buf.Write(p)
	for {
		line, err := cw.buf.ReadString('\n')
		if err != nil { // no newline yet: keep the rest
			cw.buf.Reset()
			cw.buf.WriteString(line)
			return len(p), nil
		}
		if err := cw.convert(strings.TrimSuffix(line, "\n")); err != nil {
			return len(p), err
		}
	}
}

// Close converts a last line without its newline.
func (cw *convertingWriter) Close() error {
	if cw.buf.Len() == 0 {
		return nil
	}
	line := cw.buf.String()
	cw.buf.Reset()
	return cw.convert(line)
}

func (cw *convertingWriter) convert(line string) error {
	var out string
	if cw.kind == writesText {
		b, err := json.Marshal(struct {
			Message string `json:"message"`
		}{line})
		if err != nil {
			return err
		}
		out = string(b)
	} else {
		out = logfmt(line)
	}
	_, err := fmt.Fprintln(cw.w, out)
	return err
}

// logfmt is a line of JSON as key=value pairs in the JSON's own order
// (nested keys joined with dots, values quoted where they hold a space or
// a quote); a line that is no JSON object stays as it is.
func logfmt(line string) string {
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	var pairs []string
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return line
	}
	if err := logfmtObject(dec, "", &pairs); err != nil {
		return line
	}
	return strings.Join(pairs, " ")
}

// logfmtObject reads an object's members up to its closing brace.
func logfmtObject(dec *json.Decoder, prefix string, pairs *[]string) error {
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if err := logfmtValue(dec, prefix+t.(string), pairs); err != nil {
			return err
		}
	}
	_, err := dec.Token() // '}'
	return err
}

func logfmtValue(dec *json.Decoder, key string, pairs *[]string) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := t.(type) {
	case json.Delim:
		if v == '{' {
			return logfmtObject(dec, key+".", pairs)
		}
		// An array: its items joined with commas, objects kept as JSON.
		var items []string
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return err
			}
			var s string
			if json.Unmarshal(raw, &s) == nil {
				items = append(items, s)
			} else {
				items = append(items, string(raw))
			}
		}
		if _, err := dec.Token(); err != nil { // ']'
			return err
		}
		*pairs = append(*pairs, key+"="+logfmtQuote(strings.Join(items, ",")))
	case nil:
		*pairs = append(*pairs, key+"=")
	default:
		*pairs = append(*pairs, key+"="+logfmtQuote(fmt.Sprint(v)))
	}
	return nil
}

func logfmtQuote(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\"=\\") {
		b, _ := json.Marshal(s)
		return string(b)
	}
	return s
}
