package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wardsec/ward/api"
)

// printJSON writes v as indented JSON.
func (c *cmd) printJSON(v any) int {
	enc := json.NewEncoder(c.stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return c.failf("encode output: %w", err)
	}
	return exitOK
}

// kvTable prints rows as a two-column Key/Value table. Values may span
// lines (PEM blocks); only the key column is padded.
func kvTable(w io.Writer, rows [][2]string) {
	table := make([][]string, len(rows))
	for i, r := range rows {
		table[i] = []string{r[0], r[1]}
	}
	columns(w, []string{"Key", "Value"}, table)
}

// columns prints a table with a dashed header, columns separated by four
// spaces. The last column is not padded, so multi-line values in it do
// not disturb the alignment.
func columns(w io.Writer, header []string, rows [][]string) {
	widths := make([]int, len(header))
	all := append([][]string{header}, rows...)
	for _, r := range all {
		for i := 0; i < len(r)-1 && i < len(widths); i++ {
			widths[i] = max(widths[i], utf8.RuneCountInString(r[i]))
		}
	}
	dashes := make([]string, len(header))
	for i, h := range header {
		dashes[i] = strings.Repeat("-", len(h))
	}
	var b strings.Builder
	for _, r := range append([][]string{header, dashes}, rows...) {
		var line strings.Builder
		for i, cell := range r {
			line.WriteString(cell)
			if i < len(r)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)+4))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	io.WriteString(w, b.String())
}

// mapRows turns a data map into rows sorted by key.
func mapRows(m map[string]any) [][2]string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rows := make([][2]string, 0, len(keys))
	for _, k := range keys {
		rows = append(rows, [2]string{k, formatValue(m[k])})
	}
	return rows
}

// formatValue renders a decoded JSON value for a table cell.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "<nil>"
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return fmt.Sprint(v)
}

// humanDuration renders seconds as "768h", "1h30m", "45s"; 0 is "∞".
func humanDuration(secs int64) string {
	if secs <= 0 {
		return "∞"
	}
	s := (time.Duration(secs) * time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// warnings prints server warnings to stderr, where they do not disturb
// output meant for scripts.
func (c *cmd) warnings(s *api.Secret) {
	if s == nil {
		return
	}
	for _, w := range s.Warnings {
		fmt.Fprintf(c.stderr, "warning: %s\n", w)
	}
}

// printWrapped handles a wrapped response, which has no data of its own:
// it prints the wrap info (or its field, when field is set) and reports
// true, setting c.code. Other responses are left to the caller.
func (c *cmd) printWrapped(sec *api.Secret, field string) bool {
	if sec == nil || sec.WrapInfo == nil {
		return false
	}
	if field != "" {
		c.code = c.printField(sec, field)
	} else {
		c.code = c.printSecret(sec)
	}
	return true
}

// printSecret prints a logical response: the whole envelope as JSON, or a
// table of its wrap info, auth block or data.
func (c *cmd) printSecret(s *api.Secret) int {
	c.warnings(s)
	if c.format == "json" {
		return c.printJSON(s)
	}
	switch {
	case s.WrapInfo != nil:
		kvTable(c.stdout, wrapRows(s.WrapInfo))
	case s.Auth != nil:
		kvTable(c.stdout, authRows(s.Auth))
	default:
		var rows [][2]string
		if s.LeaseID != "" {
			rows = append(rows,
				[2]string{"lease_id", s.LeaseID},
				[2]string{"lease_duration", humanDuration(s.LeaseDuration)},
				[2]string{"lease_renewable", fmt.Sprint(s.Renewable)})
		} else if s.LeaseDuration > 0 {
			rows = append(rows, [2]string{"refresh_interval", humanDuration(s.LeaseDuration)})
		}
		rows = append(rows, mapRows(s.Data)...)
		if len(rows) == 0 {
			fmt.Fprintln(c.stdout, "Success! The server returned no data.")
			return exitOK
		}
		kvTable(c.stdout, rows)
	}
	return exitOK
}

func wrapRows(w *api.WrapInfo) [][2]string {
	rows := [][2]string{
		{"wrapping_token:", w.Token},
		{"wrapping_accessor:", w.Accessor},
		{"wrapping_token_ttl:", humanDuration(w.TTL)},
		{"wrapping_token_creation_time:", w.CreationTime},
		{"wrapping_token_creation_path:", w.CreationPath},
	}
	if w.WrappedAccessor != "" {
		rows = append(rows, [2]string{"wrapped_accessor:", w.WrappedAccessor})
	}
	return rows
}

func authRows(a *api.Auth) [][2]string {
	rows := [][2]string{
		{"token", a.ClientToken},
		{"token_accessor", a.Accessor},
		{"token_duration", humanDuration(a.LeaseDuration)},
		{"token_renewable", fmt.Sprint(a.Renewable)},
		{"token_policies", quoteList(a.TokenPolicies)},
		{"identity_policies", quoteList(a.IdentityPolicies)},
		{"policies", quoteList(a.Policies)},
	}
	keys := make([]string, 0, len(a.Metadata))
	for k := range a.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		rows = append(rows, [2]string{"token_meta_" + k, a.Metadata[k]})
	}
	return rows
}

// quoteList renders ["a" "b"] as Vault's CLI does.
func quoteList(l []string) string {
	if l == nil {
		l = []string{}
	}
	return fmt.Sprintf("%q", l)
}

// printField prints one field of s (data first, then the auth and wrap
// fields by their table names) on its own line, for scripts.
func (c *cmd) printField(s *api.Secret, field string) int {
	c.warnings(s)
	if s != nil {
		if v, ok := s.Data[field]; ok {
			return c.printRaw(v)
		}
		var rows [][2]string
		if s.Auth != nil {
			rows = authRows(s.Auth)
		}
		if s.WrapInfo != nil {
			rows = append(rows, wrapRows(s.WrapInfo)...)
		}
		for _, r := range rows {
			if strings.TrimSuffix(r[0], ":") == field {
				fmt.Fprintln(c.stdout, r[1])
				return exitOK
			}
		}
	}
	return c.failf("field %q is not present in the response", field)
}

// printRaw prints a single value: strings as is, anything else as JSON in
// json format or as a table cell otherwise.
func (c *cmd) printRaw(v any) int {
	if s, ok := v.(string); ok {
		fmt.Fprintln(c.stdout, s)
		return exitOK
	}
	if c.format == "json" {
		return c.printJSON(v)
	}
	fmt.Fprintln(c.stdout, formatValue(v))
	return exitOK
}

// printKeys prints a listing: one key per line under a "Keys" header, or
// a JSON array.
func (c *cmd) printKeys(keys []string) int {
	if c.format == "json" {
		return c.printJSON(keys)
	}
	fmt.Fprintln(c.stdout, "Keys")
	fmt.Fprintln(c.stdout, "----")
	for _, k := range keys {
		fmt.Fprintln(c.stdout, k)
	}
	return exitOK
}

// success prints a confirmation line in table format; JSON output stays
// empty when the server returned nothing.
func (c *cmd) success(format string, args ...any) int {
	if c.format != "json" {
		fmt.Fprintf(c.stdout, "Success! "+format+"\n", args...)
	}
	return exitOK
}
